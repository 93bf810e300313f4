package io.pgmux.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The comparison's Netty relay, started as the comparison starts it, in front of a real PostgreSQL: the harness logs
 * in through it and runs SELECT 1 with no errors, its CPU is measured by pid, and closing the services stops it.
 */
class ByteRelayIT {
    private static final String USER = "relay_smoke";
    private static final String PASSWORD = "relay-smoke-pw";

    @TempDir
    Path dir;

    @Test
    void harnessRunsThroughTheRelayAndClosingStopsIt() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(USER, USER);
        Services services = new Services(dir.resolve("services"));
        Files.createDirectories(dir.resolve("services"));
        ProcessHandle relay;
        try {
            services.startRelay(pg.host(), pg.port(), line -> {});
            relay = ProcessHandle.of(services.pid(Services.Target.RELAY)).orElseThrow();
            assertTrue(
                    Files.readString(dir.resolve("services/relay.log")).contains("relay listening on 127.0.0.1:"),
                    "the relay says where it listens");
            String[] args = {
                "--host", "127.0.0.1",
                "--port", Integer.toString(services.port(Services.Target.RELAY)),
                "--user", USER,
                "--password", PASSWORD,
                "--workload", "select1",
                "--clients", "2",
                "--duration", "2",
                "--warmup", "1",
                "--threads", "1",
                "--target-pid", Long.toString(relay.pid()),
                "--label", "relay",
                "--out", dir.toString()
            };
            ByteArrayOutputStream progress = new ByteArrayOutputStream();
            LoadResult r = new LoadHarness(
                            LoadOptions.parse(args, Map.of()), new PrintStream(progress, true, StandardCharsets.UTF_8))
                    .run();
            assertTrue(r.transactions() > 0 && r.tps() > 0, "throughput: " + r);
            assertEquals(0, r.errors(), "errors: " + r.errorsBySqlState());
            assertTrue(r.targetCpuMicrosPerTransaction() > 0, "the relay's CPU per transaction: " + r);
        } finally {
            services.close();
        }
        assertFalse(relay.isAlive(), "closing the services stops the relay");
        assertTrue(Files.readString(dir.resolve("services/pids")).contains(Long.toString(relay.pid())));
    }
}
