package io.pgmux.load;

import io.pgmux.testkit.TestPostgres;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a comparison talks to: PostgreSQL (testkit's embedded server, max_connections 200), PgBouncer (Debian's, run
 * as {@code nobody} when we are root, since it refuses root) and pgmux ({@code bin/pgmux}), both in transaction mode
 * with 20 server connections, and, when a selected case uses it, the {@link ByteRelay} in front of PostgreSQL. Every
 * process started is written to {@code pids} so that compare.sh's trap can end them even if this JVM dies;
 * {@link #close()} stops them all.
 */
final class Services implements AutoCloseable {
    static final String USER = "bench";
    static final String PASSWORD = "bench-password";
    static final String DATABASE = "bench";
    static final int POOL_SIZE = 20;
    static final int MAX_CLIENTS = 16_100;

    /** Who a run connects to. */
    enum Target {
        DIRECT("direct"),
        PGBOUNCER("PgBouncer"),
        PGMUX("pgmux"),
        /** {@link ByteRelay}: not a pooler, the floor under any Netty proxy (one PostgreSQL connection per client). */
        RELAY("Netty relay");

        final String title;

        Target(String title) {
            this.title = title;
        }
    }

    private final Path dir;
    private final List<Process> processes = new ArrayList<>();
    private TestPostgres postgres;
    private String verifier;
    private Process pgbouncer;
    private Process pgmux;
    private Process relay;
    private int pgbouncerPort;
    private int pgmuxPort;
    private int pgmuxMetricsPort;
    private int relayPort;

    Services(Path dir) {
        this.dir = dir;
    }

    /** Starts PostgreSQL, PgBouncer and pgmux, and the relay too if {@code targets} has it. */
    void start(Path repo, int scale, Collection<Target> targets, PrintStreamLog log) throws Exception {
        Files.createDirectories(dir);
        // nobody must reach the config files in here
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        log.line("starting PostgreSQL (testkit)");
        postgres = TestPostgres.start();
        postgres.createUser(USER, PASSWORD);
        postgres.createDatabase(DATABASE, USER);
        try (Connection c = postgres.connect(DATABASE);
                Statement s = c.createStatement()) {
            s.execute("GRANT ALL ON SCHEMA public TO " + USER);
            s.execute("ALTER SYSTEM SET max_connections = 200");
            // Both poolers get PostgreSQL's own SCRAM verifier, as in production: no PBKDF2 per client login,
            // and they log in to PostgreSQL with the key the client proved (SCRAM pass-through).
            try (var rs = s.executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = '" + USER + "'")) {
                rs.next();
                verifier = rs.getString(1);
            }
        }
        restartPostgres();
        log.line("pgbench -i -s " + scale);
        int init = run(
                List.of(
                        pgbenchPath(),
                        "-i",
                        "-q",
                        "-s",
                        Integer.toString(scale),
                        "-h",
                        postgres.host(),
                        "-p",
                        Integer.toString(postgres.port()),
                        "-U",
                        USER,
                        DATABASE),
                dir.resolve("pgbench-init.log"),
                600);
        if (init != 0) {
            throw new IOException("pgbench -i failed; see " + dir.resolve("pgbench-init.log"));
        }
        startPgbouncer(log);
        startPgmux(repo, log);
        if (targets.contains(Target.RELAY)) {
            startRelay(postgres.host(), postgres.port(), log);
        }
    }

    private void restartPostgres() throws IOException, InterruptedException {
        if (postgres.dataDir() == null) {
            return; // an external server: its max_connections is what it is
        }
        List<String> restart = asUnprivileged(List.of(
                Path.of(postgres.binDir(), "pg_ctl").toString(),
                "-D",
                postgres.dataDir(),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "-l",
                Path.of(postgres.dataDir(), "restart.log").toString(),
                "restart"));
        if (run(restart, dir.resolve("pg_ctl-restart.log"), 120) != 0) {
            throw new IOException("pg_ctl restart failed; see " + dir.resolve("pg_ctl-restart.log"));
        }
    }

    private void startPgbouncer(PrintStreamLog log) throws Exception {
        pgbouncerPort = freePort();
        Path userlist = dir.resolve("userlist.txt");
        Files.writeString(userlist, "\"" + USER + "\" \"" + verifier + "\"\n");
        Path ini = dir.resolve("pgbouncer.ini");
        Files.writeString(
                ini,
                String.join(
                        "\n",
                        "[databases]",
                        DATABASE + " = host=" + postgres.host() + " port=" + postgres.port() + " dbname=" + DATABASE,
                        "[pgbouncer]",
                        "listen_addr = 127.0.0.1",
                        "listen_port = " + pgbouncerPort,
                        "unix_socket_dir =",
                        "auth_type = scram-sha-256",
                        "auth_file = " + userlist,
                        "pool_mode = transaction",
                        "default_pool_size = " + POOL_SIZE,
                        "max_client_conn = " + MAX_CLIENTS,
                        ""));
        readableByAll(userlist);
        readableByAll(ini);
        log.line("starting PgBouncer on 127.0.0.1:" + pgbouncerPort);
        pgbouncer = launch(asUnprivileged(List.of(pgbouncerBinary(), ini.toString())), dir.resolve("pgbouncer.log"));
        awaitPort(pgbouncerPort, pgbouncer, "PgBouncer", dir.resolve("pgbouncer.log"));
    }

    private void startPgmux(Path repo, PrintStreamLog log) throws Exception {
        pgmuxPort = freePort();
        pgmuxMetricsPort = freePort();
        Path conf = dir.resolve("pgmux.conf");
        Files.writeString(
                conf,
                String.format(
                        """
                        pgmux {
                          listen { host = "127.0.0.1", port = %d }
                          metrics { enabled = true, host = "127.0.0.1", port = %d }
                          auth { type = scram-sha-256, users { %s { password = "%s" } } }
                          pool { mode = transaction, size = %d, max-client-connections = %d }
                          databases { %s { host = "%s", port = %d } }
                        }
                        """,
                        pgmuxPort,
                        pgmuxMetricsPort,
                        USER,
                        verifier,
                        POOL_SIZE,
                        MAX_CLIENTS,
                        DATABASE,
                        postgres.host(),
                        postgres.port()));
        log.line("starting pgmux on 127.0.0.1:" + pgmuxPort);
        pgmux = launch(
                List.of(repo.resolve("bin/pgmux").toString(), "--config", conf.toString()), dir.resolve("pgmux.log"));
        awaitPort(pgmuxPort, pgmux, "pgmux", dir.resolve("pgmux.log"));
    }

    /**
     * Starts the {@link ByteRelay} in front of {@code host:port}, with this JVM's java binary and class path (the
     * copied pgmux-bench.jar under compare.sh), so that it runs the same code as the comparison.
     */
    void startRelay(String host, int port, PrintStreamLog log) throws Exception {
        relayPort = freePort();
        String javaBinary = ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        log.line("starting the Netty relay on 127.0.0.1:" + relayPort + " -> " + host + ":" + port);
        Path relayLog = dir.resolve("relay.log");
        relay = launch(
                List.of(
                        javaBinary,
                        // as bin/pgmux runs pgmux: otherwise the JVM's default options
                        "-XX:+ExitOnOutOfMemoryError",
                        "-cp",
                        System.getProperty("java.class.path"),
                        ByteRelay.class.getName(),
                        Integer.toString(relayPort),
                        host,
                        Integer.toString(port)),
                relayLog);
        awaitPort(relayPort, relay, "the Netty relay", relayLog);
    }

    int port(Target target) {
        return switch (target) {
            case DIRECT -> postgres.port();
            case PGBOUNCER -> pgbouncerPort;
            case PGMUX -> pgmuxPort;
            case RELAY -> {
                started(relay, target);
                yield relayPort;
            }
        };
    }

    /** The process whose CPU and memory count for a target: 0 for PostgreSQL itself (many processes). */
    long pid(Target target) {
        return switch (target) {
            case DIRECT -> 0;
            case PGBOUNCER -> pgbouncer.pid();
            case PGMUX -> pgmux.pid();
            case RELAY -> started(relay, target).pid();
        };
    }

    private static Process started(Process process, Target target) {
        if (process == null) {
            throw new IllegalStateException(target.title + " was not started: no selected case uses it");
        }
        return process;
    }

    String metricsUrl() {
        return "http://127.0.0.1:" + pgmuxMetricsPort + "/metrics";
    }

    String host() {
        return postgres.host();
    }

    String pgbenchPath() {
        String path = postgres.pgbenchPath();
        return path != null ? path : "pgbench";
    }

    String postgresVersion() {
        try (Connection c = postgres.connect(DATABASE);
                Statement s = c.createStatement();
                var rs = s.executeQuery("SELECT version(), current_setting('max_connections')")) {
            rs.next();
            return rs.getString(1) + "; max_connections " + rs.getString(2);
        } catch (Exception e) {
            return "PostgreSQL " + postgres.majorVersion();
        }
    }

    /** Starts a child process with its output to {@code log}; remembered for {@link #close()}. */
    Process launch(List<String> command, Path log) throws IOException {
        return startRecorded(new ProcessBuilder(command), log);
    }

    private Process startRecorded(ProcessBuilder pb, Path log) throws IOException {
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process p = pb.start();
        synchronized (processes) {
            processes.add(p);
        }
        Files.writeString(dir.resolve("pids"), p.pid() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return p;
    }

    /** Runs a command to its end (at most {@code timeoutSeconds}); its exit status, or -1 on timeout. */
    int run(List<String> command, Path log, long timeoutSeconds) throws IOException, InterruptedException {
        return run(command, log, timeoutSeconds, Map.of());
    }

    int run(List<String> command, Path log, long timeoutSeconds, Map<String, String> env)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("PGPASSWORD", PASSWORD);
        pb.environment().putAll(env);
        Process p = startRecorded(pb, log);
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                stop(p);
                return -1;
            }
            return p.exitValue();
        } finally {
            synchronized (processes) {
                processes.remove(p);
            }
        }
    }

    @Override
    public void close() {
        List<Process> all;
        synchronized (processes) {
            all = new ArrayList<>(processes);
        }
        all.forEach(Services::stop);
        if (postgres != null) {
            postgres.close();
        }
    }

    private static void stop(Process p) {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
        try {
            if (!p.waitFor(40, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitPort(int port, Process process, String name, Path log)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(name + " exited with status " + process.exitValue() + "; see " + log);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException notYet) {
                TimeUnit.MILLISECONDS.sleep(200);
            }
        }
        throw new IOException(name + " did not listen on port " + port + " within 120 s; see " + log);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void readableByAll(Path file) throws IOException {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private static String pgbouncerBinary() {
        for (String candidate : List.of("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return "pgbouncer";
    }

    /** PgBouncer and PostgreSQL refuse to run as root: as root, run them as nobody (as testkit does). */
    private static List<String> asUnprivileged(List<String> command) {
        if (!"root".equals(System.getProperty("user.name"))) {
            return command;
        }
        List<String> wrapped =
                new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=" + nogroup(), "--clear-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    private static String nogroup() {
        return Files.exists(Path.of("/etc/group")) && readsGroup("nogroup") ? "nogroup" : "nobody";
    }

    private static boolean readsGroup(String name) {
        try {
            return Files.readAllLines(Path.of("/etc/group")).stream().anyMatch(l -> l.startsWith(name + ":"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Progress lines of the comparison. */
    interface PrintStreamLog {
        void line(String text);
    }
}
