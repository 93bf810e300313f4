package io.pgmux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: exit statuses and what it prints, without starting a server. */
class MainTest {
    @TempDir
    Path dir;

    private record Result(int status, String out, String err) {}

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
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
    void unusableCommandLinesExitTwo() {
        assertEquals(2, run("--frobnicate").status());
        assertEquals(
                2,
                run("check", "--config", dir.resolve("missing.conf").toString()).status());
        assertEquals(2, run("--config").status());
        assertEquals(2, run("launch").status());
    }
}
