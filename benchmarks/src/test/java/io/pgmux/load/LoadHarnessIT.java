package io.pgmux.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.PgmuxServer;
import io.pgmux.config.ConfigLoader;
import io.pgmux.testkit.TestPostgres;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A few seconds of the harness against pgmux in front of a real PostgreSQL: each workload and protocol produces
 * transactions, no errors, and its result files. Speed is never asserted.
 */
class LoadHarnessIT {
    private static final String USER = "bench_smoke";
    private static final String PASSWORD = "bench-smoke-pw";

    private static PgmuxServer pgmux;
    private static InetSocketAddress address;
    private static String metricsUrl;

    @TempDir
    Path out;

    @BeforeAll
    static void startPgmux() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(USER, USER);
        pgmux = new PgmuxServer(ConfigLoader.fromString(String.format(
                """
                pgmux {
                  listen { host = "127.0.0.1", port = 0 }
                  metrics { enabled = true, host = "127.0.0.1", port = 0 }
                  auth { type = scram-sha-256, users { %s { password = "%s" } } }
                  pool { size = 4, mode = transaction }
                  databases { %s { host = "%s", port = %d } }
                }
                """,
                USER, PASSWORD, USER, pg.host(), pg.port())));
        address = pgmux.start();
        metricsUrl = "http://127.0.0.1:" + pgmux.metricsAddress().orElseThrow().getPort() + "/metrics";
        LoadResult init = run((Path) null, "init", "--init", "--duration", "0");
        assertEquals(null, init, "--init with --duration 0 sets up and measures nothing");
    }

    @AfterAll
    static void stopPgmux() {
        if (pgmux != null) {
            pgmux.close();
        }
    }

    @Test
    void selectOnlyOverEachProtocol() throws Exception {
        for (String protocol : new String[] {"simple", "extended", "prepared"}) {
            LoadResult r = run(protocol, "--workload", "select-only", "--protocol", protocol, "--clients", "8");
            assertSane(r, protocol);
            assertTrue(
                    r.p50Micros() > 0 && r.p50Micros() <= r.p99Micros() && r.p99Micros() <= r.maxMicros(),
                    r.toString());
            assertTrue(r.targetCpuMicrosPerTransaction() > 0, "the target's CPU per transaction: " + r);
        }
    }

    @Test
    void tpcbLikeTransactions() throws Exception {
        assertSane(run("tpcb", "--workload", "tpcb-like", "--protocol", "extended", "--clients", "4"), "tpcb");
    }

    @Test
    void connectionStormCountsLogins() throws Exception {
        LoadResult r = run("storm", "--workload", "connect-storm", "--clients", "4");
        assertSane(r, "storm");
        assertTrue(r.logins() > 0 && r.loginsPerSecond() > 0, r.toString());
    }

    @Test
    void idleCrowdIsHeldAndMeasured() throws Exception {
        LoadResult r =
                run("idle", "--workload", "select1", "--clients", "2", "--idle", "200", "--metrics-url", metricsUrl);
        assertSane(r, "idle");
        assertEquals(200, r.idleClients());
        assertTrue(r.targetJvmBytes() > 0, "heap after GC plus direct memory: " + r);
        assertTrue(!Double.isNaN(r.jvmBytesPerIdleClient()), "memory per idle client: " + r);
        String csv = Files.readString(out.resolve("idle.csv"));
        Map<String, String> row = LoadResult.readCsv(out.resolve("idle.csv"));
        assertEquals("200", row.get("idle_clients"), csv);
    }

    private void assertSane(LoadResult r, String label) throws Exception {
        assertTrue(r.transactions() > 0 && r.tps() > 0, "throughput: " + r);
        assertEquals(0, r.errors(), "errors: " + r.errorsBySqlState());
        for (String file : new String[] {".md", ".csv", ".svg", "-latency.svg"}) {
            assertTrue(Files.size(out.resolve(label + file)) > 0, label + file);
        }
        assertTrue(Files.readString(out.resolve(label + ".svg")).startsWith("<svg"));
        assertEquals(r.label(), LoadResult.readCsv(out.resolve(label + ".csv")).get("label"));
    }

    private LoadResult run(String label, String... more) throws Exception {
        return run(out, label, more);
    }

    private static LoadResult run(Path dir, String label, String... more) throws Exception {
        String[] common = {
            "--host",
            "127.0.0.1",
            "--port",
            Integer.toString(address.getPort()),
            "--user",
            USER,
            "--password",
            PASSWORD,
            "--duration",
            "2",
            "--warmup",
            "1",
            "--threads",
            "1",
            "--target-pid",
            Long.toString(ProcessHandle.current().pid()),
            "--label",
            label,
            "--out",
            dir == null ? "target/bench-smoke" : dir.toString()
        };
        String[] args = new String[common.length + more.length];
        System.arraycopy(common, 0, args, 0, common.length);
        System.arraycopy(more, 0, args, common.length, more.length);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        LoadResult result = new LoadHarness(
                        LoadOptions.parse(args, Map.of()), new PrintStream(progress, true, StandardCharsets.UTF_8))
                .run();
        System.out.print(progress.toString(StandardCharsets.UTF_8));
        return result;
    }
}
