package io.pgmux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.config.ConfigException;
import io.pgmux.config.PgmuxConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: exit statuses and what it prints, without starting a server. */
class MainTest {
    @TempDir
    Path dir;

    private record Result(int status, String out, String err) {}

    /** A run of the command line that prints to {@code out} and {@code err} and returns the exit status. */
    private interface Command {
        int run(PrintStream out, PrintStream err);
    }

    private static Result capture(Command command) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = command.run(
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Result run(String... args) {
        return capture((out, err) -> Main.run(args, out, err));
    }

    @Test
    void versionPrintsTheVersion() {
        Result r = run("--version");
        assertEquals(0, r.status());
        assertTrue(r.out().matches("pgmux \\d+\\.\\d+\\.\\d+.*\\s*"), r.out());
    }

    @Test
    void helpShowsUsage() {
        Result r = run("--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("pgmux demo"));
    }

    /** The demo takes PGMUX_* and -Dpgmux.* as a config file does, so that two can run at once; --port wins. */
    @Test
    void demoHonoursEnvironmentOverridesAndItsPortFlag() throws Exception {
        PgmuxConfig plain = Main.demoConfig("127.0.0.1", 5432, Optional.empty(), Map.of(), new Properties());
        assertEquals(6432, plain.listen().port());
        assertEquals(9930, plain.metrics().port());
        assertEquals(5432, plain.database("demo").orElseThrow().port());

        Map<String, String> env = Map.of("PGMUX_LISTEN_PORT", "6433", "PGMUX_METRICS_PORT", "9931");
        PgmuxConfig second = Main.demoConfig("127.0.0.1", 5432, Optional.empty(), env, new Properties());
        assertEquals(6433, second.listen().port());
        assertEquals(9931, second.metrics().port());

        Properties noMetrics = new Properties();
        noMetrics.setProperty("pgmux.metrics.enabled", "false");
        PgmuxConfig flagged = Main.demoConfig("127.0.0.1", 5432, Optional.of(6434), env, noMetrics);
        assertEquals(6434, flagged.listen().port(), "--port wins over PGMUX_LISTEN_PORT");
        assertFalse(flagged.metrics().enabled());
    }

    @Test
    void demoRefusesAMisspelledOverride() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> Main.demoConfig(
                        "127.0.0.1", 5432, Optional.empty(), Map.of("PGMUX_LISTEN_PROT", "6433"), new Properties()));
        assertTrue(
                e.problems().toString().contains("PGMUX_LISTEN_PROT"),
                e.problems().toString());
    }

    /** Starting PostgreSQL takes seconds: a bad override is reported before, and nothing is started. */
    @Test
    void demoRefusesABadOverrideBeforeStartingPostgresql() {
        AtomicInteger starts = new AtomicInteger();
        Result r = capture((out, err) -> Main.demo(
                Optional.empty(),
                Map.of("PGMUX_LISTEN_PORT", "abc"),
                new Properties(),
                () -> {
                    starts.incrementAndGet();
                    throw new IllegalStateException("the demo started PostgreSQL");
                },
                out,
                err));
        assertEquals(2, r.status(), r.err());
        assertEquals(0, starts.get(), "PostgreSQL was started: " + r.err());
        assertTrue(r.err().contains("env PGMUX_LISTEN_PORT: listen.port must be a whole number, got \"abc\""), r.err());
        assertEquals("", r.out());
    }

    @Test
    void checkOfAValidConfigPrintsTheEffectiveSettings() throws IOException {
        Path file = dir.resolve("ok.conf");
        Files.writeString(file, "pgmux { pool { size = 7 }, auth.users { app { password = \"s3cret\" } } }\n");
        Result r = run("check", "--config", file.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("size = 7"), r.out());
        assertTrue(!r.out().contains("s3cret"), "passwords are masked");
    }

    @Test
    void checkOfAnInvalidConfigNamesTheKeyAndExitsTwo() throws IOException {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, "pgmux {\n  pool { size = 0 }\n}\n");
        Result r = run("check", "--config", file.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("pool.size must be >= 1, got 0"), r.err());
        assertTrue(r.err().contains("bad.conf:2"), "the problem names file and line: " + r.err());
    }

    @Test
    void checkAndRunRefuseUnreadableTlsFilesNamingTheKey() throws IOException {
        Path garbage = dir.resolve("garbage.key");
        Files.writeString(garbage, "not a key\n");
        Path file = dir.resolve("tls.conf");
        Files.writeString(
                file,
                "pgmux.tls.client { mode = require, cert = \"" + dir.resolve("missing.crt") + "\", key = \"" + garbage
                        + "\" }\npgmux.tls.server { mode = verify-ca, ca = \"" + dir.resolve("missing-ca.crt")
                        + "\" }\n");
        for (String command : new String[] {"check", "run"}) {
            Result r = run(command, "--config", file.toString());
            assertEquals(2, r.status(), command + ": " + r.err());
            assertTrue(r.err().contains("tls.client.cert cannot read " + dir.resolve("missing.crt")), r.err());
            assertTrue(r.err().contains("tls.server.ca cannot read " + dir.resolve("missing-ca.crt")), r.err());
        }

        Path cert = dir.resolve("garbage.crt");
        Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        Files.writeString(
                file, "pgmux.tls.client { mode = prefer, cert = \"" + cert + "\", key = \"" + garbage + "\" }\n");
        Result r = run("check", "--config", file.toString());
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("tls.client.cert / tls.client.key: cannot load"), r.err());
    }

    @Test
    void unusableCommandLinesExitTwo() {
        assertEquals(2, run("--frobnicate").status());
        assertEquals(
                2,
                run("check", "--config", dir.resolve("missing.conf").toString()).status());
        assertEquals(2, run("--config").status());
        assertEquals(2, run("launch").status());
    }
}
