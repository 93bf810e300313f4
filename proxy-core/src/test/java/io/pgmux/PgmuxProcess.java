package io.pgmux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The shaded jar run in a process of its own, as {@code bin/pgmux} runs it, with its output in a log file; the test's
 * own {@code PGMUX_*} variables are not passed on. {@link #close()} kills it if it still runs.
 */
final class PgmuxProcess implements AutoCloseable {
    private static final Duration START_DEADLINE = Duration.ofSeconds(45);

    private final Process process;
    private final Path log;

    private PgmuxProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code target/pgmux.jar --config config} in {@code dir} with {@code env} added, and waits until it
     * listens; skips the test when the jar was not built.
     */
    static PgmuxProcess start(Path dir, Path config, Map<String, String> env) throws IOException {
        return start(dir, config, env, List.of());
    }

    /** As {@link #start}, but with SIGHUP ignored from the start, as {@code nohup} leaves it. */
    static PgmuxProcess startWithSighupIgnored(Path dir, Path config, Map<String, String> env) throws IOException {
        // sh ignores HUP, then becomes the JVM (exec keeps the PID and the ignored signal).
        return start(dir, config, env, List.of("sh", "-c", "trap '' HUP; exec \"$0\" \"$@\""));
    }

    private static PgmuxProcess start(Path dir, Path config, Map<String, String> env, List<String> wrapper)
            throws IOException {
        Path jar = Path.of("target/pgmux.jar").toAbsolutePath();
        assumeTrue(Files.isRegularFile(jar), "no shaded jar at " + jar + " (run mvn package first)");
        Path log = dir.resolve("pgmux.log");
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-jar",
                jar.toString(),
                "--config",
                config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(name -> name.startsWith("PGMUX_") && !name.startsWith("PGMUX_TEST_"));
        builder.environment().putAll(env);
        PgmuxProcess pgmux = new PgmuxProcess(builder.start(), log);
        try {
            pgmux.awaitLog("pgmux to listen", "listening on", START_DEADLINE);
        } catch (RuntimeException | Error e) {
            pgmux.close();
            throw e;
        }
        return pgmux;
    }

    /** Waits until the log holds {@code text}. */
    void awaitLog(String what, String text, Duration timeout) {
        Await.until(what, timeout, this::log, out -> out.contains(text));
    }

    /** Everything the process wrote so far. */
    String log() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path logFile() {
        return log;
    }

    /** Sends {@code signal} (e.g. {@code HUP}) with kill(1). */
    void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid()))
                .inheritIO()
                .start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS), "kill -" + signal + " did not finish");
        assertEquals(0, kill.exitValue(), "kill -" + signal);
    }

    /** SIGTERM, then checks that pgmux stopped within 30 s with exit status 0. */
    void stopAndExpectExitZero() throws InterruptedException {
        process.destroy();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "pgmux did not stop on SIGTERM\n" + log());
        assertEquals(0, process.exitValue(), log());
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A port nothing listens on right now. */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
