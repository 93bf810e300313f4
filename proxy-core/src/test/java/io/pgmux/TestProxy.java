package io.pgmux;

import io.netty.buffer.ByteBufAllocator;
import io.pgmux.config.ConfigException;
import io.pgmux.config.ConfigLoader;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.pool.Pool;
import io.pgmux.testkit.TestPostgres;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * A pgmux running in this JVM on a free port, with a configuration written by the test, in front of the shared
 * PostgreSQL. {@link #close()} first checks that nothing leaked (no pool leases a server or has a waiter once the
 * clients are gone, and Netty reported no leaked buffer), then stops pgmux.
 */
final class TestProxy implements AutoCloseable {
    /** How long pools may take to get their servers back after the clients closed. */
    static final Duration RELEASE_DEADLINE = Duration.ofSeconds(10);
    /** How long the leak check may wait for the garbage collector. */
    private static final Duration GC_DEADLINE = Duration.ofSeconds(20);

    private final PgmuxServer server;
    private final InetSocketAddress address;
    /** What a reload reads: the settings given at start, or last to {@link #rewrite}. */
    private final AtomicReference<String> settings;

    private TestProxy(PgmuxServer server, InetSocketAddress address, AtomicReference<String> settings) {
        this.server = server;
        this.address = address;
        this.settings = settings;
    }

    /**
     * Starts pgmux with {@code settings}, the content of the {@code pgmux { }} block over the defaults; the test
     * setup listens on a free port of 127.0.0.1 and serves no metrics.
     */
    static TestProxy start(String settings) {
        PgmuxConfig config;
        try {
            config = load(settings);
        } catch (ConfigException e) {
            throw new IllegalArgumentException("invalid test config " + e.getMessage() + ":\n" + settings, e);
        }
        AtomicReference<String> current = new AtomicReference<>(settings);
        PgmuxServer server = new PgmuxServer(config, () -> load(current.get()));
        try {
            return new TestProxy(server, server.start(), current);
        } catch (InterruptedException | RuntimeException e) {
            server.close();
            throw new IllegalStateException("pgmux did not start: " + e, e);
        }
    }

    private static PgmuxConfig load(String settings) throws ConfigException {
        return ConfigLoader.fromString(
                "pgmux {\n  listen { host = \"127.0.0.1\", port = 0 }\n  metrics.enabled = false\n" + settings
                        + "\n}\n");
    }

    /** Replaces the settings that the next reload (console RELOAD) reads, as editing the config file would. */
    void rewrite(String newSettings) {
        settings.set(newSettings);
    }

    /** A {@code databases} entry named {@code name} routing to the same-named database of {@code pg}. */
    static String database(String name, TestPostgres pg, String more) {
        return quote(name) + " { host = " + quote(pg.host()) + ", port = " + pg.port() + "\n" + more + "\n}\n";
    }

    /** An {@code auth.users} entry. */
    static String user(String name, String password) {
        return quote(name) + " { password = " + quote(password) + " }\n";
    }

    /** A HOCON quoted string. */
    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    int port() {
        return address.getPort();
    }

    PgmuxServer server() {
        return server;
    }

    String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    /**
     * A pgjdbc connection through pgmux, bounded by connect and socket timeouts; {@code settings} are more
     * connection properties as {@code "name=value"}.
     */
    Connection connect(String database, String user, String password, String... settings) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "10");
        props.setProperty("loginTimeout", "20");
        props.setProperty("socketTimeout", "30");
        props.setProperty("ApplicationName", "pgmux-it");
        for (String setting : settings) {
            int eq = setting.indexOf('=');
            props.setProperty(setting.substring(0, eq), setting.substring(eq + 1));
        }
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    List<Pool> pools() {
        return List.copyOf(server.registry().pools());
    }

    /** The pool of (database, user); fails when no client has used it yet. */
    Pool pool(String database, String user) {
        return pools().stream()
                .filter(p ->
                        p.key().database().equals(database) && p.key().user().equals(user))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no pool " + database + "/" + user + " in " + pools()));
    }

    /** Waits until no pool leases a server or has a waiter: what every test leaves behind once its clients closed. */
    void awaitAllReleased() {
        Await.until(
                "every pool to have 0 leased servers and 0 waiters",
                RELEASE_DEADLINE,
                () -> pools().stream()
                        .filter(p -> p.counts().leased() > 0 || p.counts().waiting() > 0)
                        .map(p -> p.key() + "=" + p.counts())
                        .collect(Collectors.joining(", ")),
                String::isEmpty);
    }

    /** Checks that nothing leaked, then stops pgmux (also when the check fails). */
    @Override
    public void close() {
        try {
            awaitAllReleased();
            assertNoLeakedBuffers();
        } finally {
            server.close();
        }
    }

    /**
     * Makes Netty's leak detector look at what the garbage collector found: it reports when the next buffer is
     * allocated. The wait for the collector is not a pause but proof that it ran ({@link #awaitReferenceProcessing}),
     * so a loaded machine cannot make a dropped buffer go unreported.
     */
    static void assertNoLeakedBuffers() {
        awaitReferenceProcessing();
        for (int i = 0; i < 8; i++) {
            ByteBufAllocator.DEFAULT.buffer(1).release();
        }
        List<String> leaks = LeakReports.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError(
                    "Netty reported " + leaks.size() + " leaked buffer(s):\n" + String.join("\n", leaks));
        }
    }

    /**
     * Returns once the garbage collector has collected what is unreachable now and the JVM has queued the weak
     * references to it, Netty's leak trackers among them. A full collection finds them all; the JVM then queues them
     * on a thread of its own, one collection's batch after another. So when a marker from a second collection is
     * queued, the whole batch of the first one is too. Bounded: fails after {@link #GC_DEADLINE}.
     */
    private static void awaitReferenceProcessing() {
        long deadline = System.nanoTime() + GC_DEADLINE.toNanos();
        for (int round = 0; round < 2; round++) {
            ReferenceQueue<Object> queue = new ReferenceQueue<>();
            WeakReference<Object> marker = new WeakReference<>(new Object(), queue);
            try {
                System.gc();
                while (queue.remove(50) != marker) {
                    if (System.nanoTime() - deadline > 0) {
                        throw new AssertionError("the garbage collector did not run within " + GC_DEADLINE);
                    }
                    System.gc();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    @Override
    public String toString() {
        return "pgmux on 127.0.0.1:" + port();
    }
}
