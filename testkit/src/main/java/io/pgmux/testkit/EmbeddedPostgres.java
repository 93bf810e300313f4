package io.pgmux.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run from the embedded binaries: a fresh data directory made with {@code initdb}, started and
 * stopped with {@code pg_ctl}, listening on 127.0.0.1 with {@code scram-sha-256} authentication.
 */
final class EmbeddedPostgres implements PostgresServer {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);

    static final String SUPER_USER = "postgres";
    static final String SUPER_PASSWORD = "postgres";
    static final String HOST = "127.0.0.1";

    private static final Duration INITDB_TIMEOUT = Duration.ofMinutes(2);
    private static final int START_WAIT_SECONDS = 60;
    private static final int STOP_WAIT_SECONDS = 30;
    private static final int PORT_ATTEMPTS = 3;
    private static final int LOG_TAIL_LINES = 30;
    /** Unix socket paths are limited to 107 bytes; this leaves room for "/.s.PGSQL.nnnnn". */
    private static final int MAX_BASE_DIR_LENGTH = 80;

    private final Path install;
    private final Path baseDir;
    private final Path dataDir;
    private final Path serverLog;
    private final Path toolLog;
    private final int port;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;

    private EmbeddedPostgres(Path install, Path baseDir, int port) {
        this.install = install;
        this.baseDir = baseDir;
        this.dataDir = baseDir.resolve("data");
        this.serverLog = baseDir.resolve("postgres.log");
        this.toolLog = baseDir.resolve("pg_ctl.log");
        this.port = port;
        this.shutdownHook = new Thread(this::stop, "pgmux-testkit-stop-postgres-" + port);
    }

    /** Unpacks the binaries if needed, creates a data directory and starts the server; throws when that fails. */
    static EmbeddedPostgres start(int majorVersion) throws IOException {
        Path install = PostgresBinaries.install(majorVersion);
        Path baseDir = Files.createTempDirectory(tempRoot(), "pgmux-pg-");
        Path dataDir = baseDir.resolve("data");
        Path initdbLog = baseDir.resolve("initdb.log");
        try {
            Files.setPosixFilePermissions(baseDir, PosixFilePermissions.fromString("rwx------"));
            Os.giveToPostgresUser(baseDir);
            initdb(install, baseDir, dataDir, initdbLog);
        } catch (IOException | RuntimeException e) {
            String tail = Processes.tail(initdbLog, LOG_TAIL_LINES);
            Processes.deleteRecursively(baseDir);
            throw new IOException(
                    "initdb failed for PostgreSQL " + majorVersion + ": " + e.getMessage()
                            + "\n--- last lines of the initdb output ---\n" + tail,
                    e);
        }
        IOException failure = null;
        for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
            EmbeddedPostgres pg = new EmbeddedPostgres(install, baseDir, freePort());
            try {
                pg.startServer();
                return pg;
            } catch (IOException e) {
                failure = e;
                pg.killPostmaster();
                if (!Processes.tail(pg.serverLog, LOG_TAIL_LINES).contains("Address already in use")) {
                    break;
                }
                log.debug("port {} was taken meanwhile; trying another", pg.port);
            }
        }
        Processes.deleteRecursively(baseDir);
        throw failure;
    }

    private static void initdb(Path install, Path baseDir, Path dataDir, Path initdbLog) throws IOException {
        Path pwFile = baseDir.resolve("pwfile");
        Files.writeString(pwFile, SUPER_PASSWORD + "\n", StandardCharsets.UTF_8);
        Os.giveToPostgresUser(pwFile);
        List<String> command = List.of(
                install.resolve("bin/initdb").toString(),
                "-D",
                dataDir.toString(),
                "-A",
                "scram-sha-256",
                "--pwfile=" + pwFile,
                "-U",
                SUPER_USER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions");
        int status = Processes.run(Os.asPostgresUser(command), baseDir, initdbLog, INITDB_TIMEOUT);
        Files.deleteIfExists(pwFile);
        if (status != 0) {
            throw new IOException("initdb exited with status " + status);
        }
        Files.writeString(
                dataDir.resolve("postgresql.conf"),
                String.join(
                        "\n",
                        "",
                        "# pgmux testkit",
                        "listen_addresses = '" + HOST + "'",
                        "unix_socket_directories = '" + baseDir + "'",
                        "max_connections = 300",
                        "password_encryption = 'scram-sha-256'",
                        "fsync = off",
                        "synchronous_commit = off",
                        "full_page_writes = off",
                        "shared_buffers = 128MB",
                        ""),
                StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        Files.writeString(
                dataDir.resolve("pg_hba.conf"),
                String.join(
                        "\n",
                        "# pgmux testkit; TestPostgres.addHbaRule() puts rules above these",
                        "local all all trust",
                        "host all all 127.0.0.1/32 scram-sha-256",
                        "host all all ::1/128 scram-sha-256",
                        ""),
                StandardCharsets.UTF_8,
                StandardOpenOption.TRUNCATE_EXISTING);
    }

    private void startServer() throws IOException {
        Files.deleteIfExists(serverLog);
        Files.writeString(
                dataDir.resolve("postgresql.conf"),
                "port = " + port + "\n",
                StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        List<String> command = List.of(
                bin("pg_ctl"),
                "-D",
                dataDir.toString(),
                "-w",
                "-t",
                Integer.toString(START_WAIT_SECONDS),
                "-l",
                serverLog.toString(),
                "start");
        int status = Processes.run(
                Os.asPostgresUser(command), baseDir, toolLog, Duration.ofSeconds(START_WAIT_SECONDS + 30));
        if (status != 0) {
            throw new IOException("pg_ctl start exited with status " + status + " (port " + port + ")"
                    + "\n--- last lines of " + serverLog + " ---\n" + Processes.tail(serverLog, LOG_TAIL_LINES)
                    + "\n--- last lines of the pg_ctl output ---\n" + Processes.tail(toolLog, LOG_TAIL_LINES));
        }
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        log.info(
                "started PostgreSQL {} on {}:{} (pid {}, data {})",
                install.getFileName(),
                HOST,
                port,
                postmasterPid().map(String::valueOf).orElse("?"),
                dataDir);
    }

    /** Stops the server and deletes its directories; safe to call more than once. */
    private void stop() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Optional<ProcessHandle> postmaster = postmasterPid().flatMap(ProcessHandle::of);
        boolean stopped = false;
        try {
            List<String> command = List.of(
                    bin("pg_ctl"),
                    "-D",
                    dataDir.toString(),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    Integer.toString(STOP_WAIT_SECONDS),
                    "stop");
            int status = Processes.run(
                    Os.asPostgresUser(command), baseDir, toolLog, Duration.ofSeconds(STOP_WAIT_SECONDS + 15));
            stopped = status == 0;
            if (!stopped) {
                log.warn("pg_ctl stop exited with status {}: {}", status, Processes.tail(toolLog, 5));
            }
        } catch (IOException e) {
            log.warn("pg_ctl stop failed: {}", e.toString());
        }
        if (stopped) {
            // pg_ctl returns once postmaster.pid is gone, which is just before the postmaster exits
            stopped = postmaster.map(EmbeddedPostgres::awaitExit).orElse(true);
        }
        if (!stopped) {
            postmaster.or(() -> postmasterPid().flatMap(ProcessHandle::of)).ifPresent(EmbeddedPostgres::kill);
        }
        Processes.deleteRecursively(baseDir);
        log.info("stopped PostgreSQL on port {}", port);
    }

    private static boolean awaitExit(ProcessHandle process) {
        try {
            process.onExit().get(10, TimeUnit.SECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            log.warn("postmaster {} still runs after pg_ctl stop", process.pid());
            return false;
        }
    }

    /** Kills the postmaster named in postmaster.pid, if any, and its children. */
    void killPostmaster() {
        postmasterPid().flatMap(ProcessHandle::of).ifPresent(EmbeddedPostgres::kill);
    }

    /** Terminates a postmaster and its children, waiting a bounded time before using SIGKILL. */
    private static void kill(ProcessHandle postmaster) {
        List<ProcessHandle> children = postmaster.descendants().toList();
        log.warn("killing postmaster {}", postmaster.pid());
        postmaster.destroy();
        try {
            postmaster.onExit().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            postmaster.destroyForcibly();
        } catch (ExecutionException | TimeoutException e) {
            postmaster.destroyForcibly();
        }
        children.forEach(ProcessHandle::destroyForcibly);
    }

    /** The postmaster's process id, from the first line of postmaster.pid. */
    Optional<Long> postmasterPid() {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            return lines.isEmpty()
                    ? Optional.empty()
                    : Optional.of(Long.parseLong(lines.get(0).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private String bin(String program) {
        return install.resolve("bin").resolve(program).toString();
    }

    /** The parent of the per-server directories: short, since the Unix socket lives there. */
    private static Path tempRoot() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        return tmp.toString().length() > MAX_BASE_DIR_LENGTH - 20 ? Path.of("/tmp") : tmp;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down and the hook runs (or ran) anyway
        }
        stop();
    }

    @Override
    public TestPostgres.Source source() {
        return TestPostgres.Source.EMBEDDED;
    }

    @Override
    public String host() {
        return HOST;
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String superUser() {
        return SUPER_USER;
    }

    @Override
    public String superPassword() {
        return SUPER_PASSWORD;
    }

    @Override
    public String adminDatabase() {
        return "postgres";
    }

    @Override
    public String binDir() {
        return install.resolve("bin").toString();
    }

    @Override
    public String dataDir() {
        return dataDir.toString();
    }

    @Override
    public String readServerFile(String path) {
        try {
            return Files.readString(Path.of(path), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void writeServerFile(String path, String content) {
        try {
            // truncating in place keeps the owner (the unprivileged user when we are root) and the mode
            Files.writeString(Path.of(path), content, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void writePrivateServerFile(String path, String content) {
        Path file = Path.of(path);
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, content, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
            Os.giveToPostgresUser(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
