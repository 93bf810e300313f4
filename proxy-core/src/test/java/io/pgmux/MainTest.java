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
