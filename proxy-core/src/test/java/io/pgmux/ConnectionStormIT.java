package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.PooledByteBufAllocator;
import io.pgmux.pool.Pool;
import io.pgmux.testkit.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A connection storm: many clients connecting, logging in, running a query and leaving, as fast as
 * they can for a bounded time. Every login works, the pool never opens more servers than its size,
 * and afterwards no client is counted, no server is leased and pgmux's buffers are back where they
 * were. {@code -Dpgmux.storm.seconds=N} runs it longer. Also hundreds of logins queued for a pool's
 * first server at once.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConnectionStormIT {
    private static final String DB = "it_storm";
    private static final String USER = "it_storm_user";
    private static final String PASSWORD = "it-storm-pw";
    private static final int SECONDS = Integer.getInteger("pgmux.storm.seconds", 5);
    private static final int THREADS = 12;

    private static final String QUEUED_DB = "it_storm_queued";
    private static final String QUEUED_USER = "it_storm_queued_user";
    private static final String ADMIN = "pgmux";
    private static final String ADMIN_PASSWORD = "it-storm-admin-pw";
    private static final int QUEUED_CLIENTS = 300;

    @Test
    void stormOfShortClientsLeavesNothingBehind() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        try (TestProxy proxy = TestProxy.start("auth { type = plain, users { " + user(USER, PASSWORD) + " } }\n"
                + "pool { size = 4 }\n"
                + "databases { " + database(DB, pg, "") + " }")) {
            // Warm up once so that the pool's first login is not part of the storm.
            try (WireClient c = WireClient.login(proxy.port(), DB, USER, PASSWORD)) {
                c.query("SELECT 1");
                c.readUntilReady();
            }
            long directBefore = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            AtomicInteger sessions = new AtomicInteger();
            AtomicInteger maxServers = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            ExecutorService threads = Executors.newFixedThreadPool(THREADS + 1);
            try {
                List<Future<?>> workers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    workers.add(threads.submit(() -> {
                        while (System.nanoTime() < deadline && failure.get() == null) {
                            try (WireClient c = WireClient.login(proxy.port(), DB, USER, PASSWORD)) {
                                c.query("SELECT 1");
                                List<WireClient.Message> reply = c.readUntilReady();
                                if (reply.stream().anyMatch(m -> m.type() == 'E')) {
                                    throw new AssertionError("query failed: " + reply);
                                }
                                c.sendTyped('X', new byte[0]);
                                sessions.incrementAndGet();
                            } catch (Throwable e) {
                                failure.compareAndSet(null, e);
                            }
                        }
                    }));
                }
                Future<?> sampler = threads.submit(() -> {
                    while (System.nanoTime() < deadline) {
                        maxServers.accumulateAndGet(pg.countConnections(USER), Math::max);
                        Await.pause(50);
                    }
                });
                for (Future<?> w : workers) {
                    w.get(SECONDS + 60L, TimeUnit.SECONDS);
                }
                sampler.get(30, TimeUnit.SECONDS);
            } finally {
                threads.shutdownNow();
            }
            if (failure.get() != null) {
                throw new AssertionError("a client of the storm failed", failure.get());
            }
            double perSecond = sessions.get() / (double) SECONDS;
            System.out.printf(
                    "connection storm: %d sessions in %d s (%.0f logins/s)%n", sessions.get(), SECONDS, perSecond);
            assertTrue(sessions.get() > SECONDS * 20, "the storm ran: " + sessions.get() + " sessions");
            assertTrue(maxServers.get() <= 4, "never more servers than pool.size: " + maxServers.get());
            Await.until(
                    "no client counted once the storm is over",
                    Duration.ofSeconds(10),
                    () -> proxy.server().registry().clientCount() == 0);
            proxy.awaitAllReleased();
            long directAfter = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            assertTrue(
                    directAfter - directBefore < (16L << 20),
                    "pgmux's buffers grew by " + ((directAfter - directBefore) >> 20) + " MiB over the storm");
            assertEquals(0, proxy.pool(DB, USER).counts().waiting());
        }
    }

    /**
     * Hundreds of clients log in while their pool has no server yet (its database is paused), so they all wait for its
     * first one. A client still logging in gives the server back at once, which hands it to the next in the same call,
     * on and on (the pool bounds how deep these answers nest; {@code NestedAnswersIT} measures that). Every client
     * finishes its login and gets its row, and PostgreSQL never sees more than the pool's one server.
     */
    @Test
    void hundredsOfLoginsQueuedForAPoolsFirstServerAreAllServed() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(QUEUED_USER, PASSWORD);
        pg.createDatabase(QUEUED_DB, QUEUED_USER);
        try (TestProxy proxy = TestProxy.start("admin.users = [\"" + ADMIN + "\"]\n"
                        + "auth { type = plain, users { " + user(QUEUED_USER, PASSWORD) + user(ADMIN, ADMIN_PASSWORD)
                        + " } }\n"
                        + "pool { size = 1 }\n"
                        + "databases { " + database(QUEUED_DB, pg, "") + " }");
                WireClient admin = WireClient.login(proxy.port(), "pgmux", ADMIN, ADMIN_PASSWORD)) {
            console(admin, "PAUSE " + QUEUED_DB);
            List<WireClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < QUEUED_CLIENTS; i++) {
                    clients.add(WireClient.connect(proxy.port()).sendLogin(QUEUED_DB, QUEUED_USER, PASSWORD));
                }
                Pool pool = proxy.pool(QUEUED_DB, QUEUED_USER);
                Await.until(
                        "every login to wait for the pool's first server",
                        Duration.ofSeconds(20),
                        () -> pool.counts().waiting() == QUEUED_CLIENTS);
                assertEquals(0, pg.countConnections(QUEUED_USER), "no server before RESUME");

                console(admin, "RESUME " + QUEUED_DB);
                for (int i = 0; i < QUEUED_CLIENTS; i++) {
                    WireClient client = clients.get(i);
                    client.finishLogin();
                    client.query("SELECT " + i);
                    assertEquals(String.valueOf(i), onlyValue(client.readUntilReady()), "client " + i + "'s row");
                    if (i % 50 == 0) {
                        assertTrue(pg.countConnections(QUEUED_USER) <= 1, "never more servers than pool.size");
                    }
                }
                assertEquals(1, pool.counts().open(), "one server served them all: " + pool.counts());
                assertTrue(pg.countConnections(QUEUED_USER) <= 1, "never more servers than pool.size");
            } finally {
                for (WireClient client : clients) {
                    client.close();
                }
            }
            Await.until(
                    "only the console client counted once the others left",
                    Duration.ofSeconds(10),
                    () -> proxy.server().registry().clientCount() == 1);
        }
    }

    /** Runs a console command and fails on an ErrorResponse. */
    private static void console(WireClient admin, String command) throws Exception {
        admin.query(command);
        List<WireClient.Message> reply = admin.readUntilReady();
        assertTrue(reply.stream().noneMatch(m -> m.type() == 'E'), command + ": " + reply);
    }

    /** The one text value of the one DataRow in {@code reply}. */
    private static String onlyValue(List<WireClient.Message> reply) {
        List<WireClient.Message> rows =
                reply.stream().filter(m -> m.type() == 'D').toList();
        assertEquals(1, rows.size(), "one row in " + reply);
        WireClient.Message row = rows.get(0);
        return new String(row.body(), 6, row.intAt(2), StandardCharsets.UTF_8);
    }
}
