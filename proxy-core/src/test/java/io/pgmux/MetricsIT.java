package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.quote;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.core.instrument.Meter;
import io.pgmux.metrics.PgmuxMeters;
import io.pgmux.metrics.Scrape;
import io.pgmux.pool.Pool;
import io.pgmux.testkit.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code GET /metrics}, {@code /health} and {@code /ready} of a pgmux with metrics enabled on a free port, driven by
 * pgjdbc clients against the shared PostgreSQL: every DESIGN metric is served, counters move by what the clients did,
 * gauges show the pools, and the endpoints answer as documented.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MetricsIT {
    private static final String USER = "it_metrics";
    private static final String DB = "it_metrics";
    private static final String PASSWORD = "metrics-pw";
    /** The same database, with servers reaped after a second idle. */
    private static final String REAP_DB = "it_metrics_reap";
    /** The same database, with one server: every client takes turns on it, whatever event loop serves the client. */
    private static final String ONE_DB = "it_metrics_one";

    private static final Duration DEADLINE = Duration.ofSeconds(15);
    private static final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        return "metrics { enabled = true, host = \"127.0.0.1\", port = 0 }\n"
                + "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n"
                + database(DB, pg, "pool { size = 3 }")
                + database(REAP_DB, pg, "dbname = " + quote(DB) + ", pool { server-idle-timeout = 1s }")
                + database(ONE_DB, pg, "dbname = " + quote(DB) + ", pool { size = 1 }")
                + "}";
    });

    @Test
    void everyDesignMetricIsServedWithJvmAndNettyMeters() throws Exception {
        try (Connection c = pgmux.connect(DB, USER, PASSWORD);
                Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            assertThrows(SQLException.class, () -> s.execute("SELECT 1/0"));
        }
        HttpResponse<String> response = get("/metrics");
        assertEquals(200, response.statusCode());
        assertEquals(
                "text/plain; version=0.0.4; charset=utf-8",
                response.headers().firstValue("content-type").orElse(""));
        Scrape scrape = Scrape.parse(response.body());
        for (PgmuxMeters meter : PgmuxMeters.values()) {
            String family = meter.prometheusName();
            String sample = meter.type() == Meter.Type.TIMER ? family + "_bucket" : family;
            assertFalse(
                    scrape.samples(sample, "database", DB).isEmpty(),
                    sample + " for " + DB + " in\n" + response.body());
        }
        for (String state : new String[] {"active", "waiting", "idle", "login"}) {
            assertEquals(
                    1,
                    scrape.samples("pgmux_client_connections", "database", DB, "state", state)
                            .size(),
                    state);
        }
        for (String state : new String[] {"active", "idle", "used", "login"}) {
            assertEquals(
                    1,
                    scrape.samples("pgmux_server_connections", "database", DB, "state", state)
                            .size(),
                    state);
        }
        assertTrue(scrape.value("pgmux_errors_total", "database", DB, "sqlstate_class", "22") >= 1, "division_by_zero");
        assertFalse(scrape.samples("jvm_memory_used_bytes").isEmpty());
        assertFalse(scrape.samples("jvm_gc_memory_allocated_bytes_total").isEmpty());
        assertFalse(scrape.samples("jvm_threads_live_threads").isEmpty());
        assertFalse(scrape.samples("jvm_classes_loaded_classes").isEmpty());
        assertFalse(scrape.samples("netty_allocator_memory_used", "memory_type", "heap")
                .isEmpty());
        assertFalse(scrape.samples("netty_allocator_memory_used", "memory_type", "direct")
                .isEmpty());
        assertFalse(scrape.samples("netty_eventexecutor_tasks_pending").isEmpty());
    }

    @Test
    void transactionsAndQueriesCountWhatTheClientRan() throws Exception {
        try (Connection c = pgmux.connect(DB, USER, PASSWORD);
                Statement s = c.createStatement()) {
            // Whatever pgjdbc runs while connecting is not part of the count.
            Scrape before = scrape();
            for (int i = 0; i < 5; i++) {
                s.execute("SELECT " + i);
            }
            Scrape autocommit = scrape();
            assertEquals(5, delta(before, autocommit, "pgmux_queries_total"), "5 autocommit queries");
            assertEquals(5, delta(before, autocommit, "pgmux_transactions_total"), "each its own transaction");

            c.setAutoCommit(false);
            s.execute("SELECT 1");
            s.execute("SELECT 2");
            s.execute("SELECT 3");
            c.commit();
            Scrape block = scrape();
            // pgjdbc sends BEGIN as a simple Query of its own before the first statement: BEGIN, three statements and
            // COMMIT are five round trips.
            assertEquals(5, delta(autocommit, block, "pgmux_queries_total"), "queries of the transaction block");
            assertEquals(1, delta(autocommit, block, "pgmux_transactions_total"), "one transaction");

            assertEquals(
                    delta(before, block, "pgmux_transactions_total"),
                    delta(before, block, "pgmux_transaction_duration_seconds_count"),
                    "one duration per transaction");
            assertEquals(
                    delta(before, block, "pgmux_queries_total"),
                    delta(before, block, "pgmux_query_duration_seconds_count"),
                    "one duration per query");
            assertTrue(delta(before, block, "pgmux_query_duration_seconds_sum") > 0);
            assertEquals(
                    delta(before, block, "pgmux_query_duration_seconds_count"),
                    delta(before, block, "pgmux_query_duration_seconds_bucket", "le", "+Inf"),
                    "every query in the +Inf bucket");
            assertTrue(delta(before, block, "pgmux_received_bytes_total") > 9 * 5, "bytes from the client");
            assertTrue(delta(before, block, "pgmux_sent_bytes_total") > 9 * 6, "bytes to the client");
            assertTrue(delta(before, block, "pgmux_pool_wait_seconds_count") >= 6, "a wait per transaction");
        }
    }

    @Test
    void leasesToClientsOnAnotherEventLoopAreCounted() throws Exception {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "one event loop: no lease can cross loops");
        int rounds = 4;
        // Accepted clients go to the event loops in turn, so of three opened one after the other at least two are
        // served by different loops; the one server of the pool lives on the loop of the client that opened it.
        try (Connection a = pgmux.connect(ONE_DB, USER, PASSWORD);
                Connection b = pgmux.connect(ONE_DB, USER, PASSWORD);
                Connection c = pgmux.connect(ONE_DB, USER, PASSWORD)) {
            Scrape before = scrape();
            for (int round = 0; round < rounds; round++) {
                for (Connection client : List.of(a, b, c)) {
                    try (Statement s = client.createStatement()) {
                        s.execute("SELECT " + round);
                    }
                }
            }
            Scrape after = scrape();
            double leases = delta(before, after, "pgmux_transactions_total", "database", ONE_DB);
            double crossed = delta(before, after, "pgmux_pool_cross_loop_leases_total", "database", ONE_DB);
            assertEquals(3 * rounds, leases, "one lease per autocommit transaction");
            // Each round, the clients on the server's loop lease it without crossing, the others (one or two) cross.
            assertTrue(crossed >= rounds && crossed <= 2 * rounds, crossed + " of " + leases + " leases crossed loops");
            assertEquals(1, pgmux.proxy().pool(ONE_DB, USER).counts().open(), "one server");
        }
    }

    @Test
    void poolGaugesShowServersAndClientsByState() throws Exception {
        try (Connection a = pgmux.connect(DB, USER, PASSWORD);
                Connection b = pgmux.connect(DB, USER, PASSWORD);
                Statement sa = a.createStatement();
                Statement sb = b.createStatement()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            sa.execute("SELECT 1"); // in a transaction: the server stays with the client
            sb.execute("SELECT 1");
            Scrape scrape = scrape();
            Pool.Counts counts = pgmux.proxy().pool(DB, USER).counts();
            assertEquals(3, scrape.value("pgmux_pool_max_size", "database", DB, "user", USER));
            assertEquals(counts.open(), scrape.value("pgmux_pool_size", "database", DB, "user", USER));
            assertTrue(counts.open() >= 2 && counts.open() <= 3, counts.toString());
            assertEquals(2, scrape.value("pgmux_server_connections", "database", DB, "state", "active"));
            assertEquals(counts.open() - 2, scrape.value("pgmux_server_connections", "database", DB, "state", "idle"));
            assertEquals(2, scrape.value("pgmux_client_connections", "database", DB, "state", "active"));
            assertEquals(0, scrape.value("pgmux_client_connections", "database", DB, "state", "waiting"));
            a.commit();
            b.commit();
            Scrape after = scrape();
            assertEquals(0, after.value("pgmux_server_connections", "database", DB, "state", "active"));
            assertEquals(0, after.value("pgmux_client_connections", "database", DB, "state", "active"));
            assertEquals(2, after.value("pgmux_client_connections", "database", DB, "state", "idle"));
        }
        Await.until(
                "the clients to leave the gauges",
                DEADLINE,
                () -> scrape().value("pgmux_client_connections", "database", DB, "state", "idle") == 0);
    }

    @Test
    void serverConnectsAndIdleClosesAreCounted() throws Exception {
        Scrape before = scrape();
        try (Connection c = pgmux.connect(REAP_DB, USER, PASSWORD);
                Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        }
        assertTrue(delta(before, scrape(), "pgmux_server_connects_total", "database", REAP_DB) >= 1);
        Await.until(
                "the idle server of " + REAP_DB + " to be reaped",
                DEADLINE,
                () -> scrape().valueOrZero("pgmux_server_closes_total", "database", REAP_DB, "reason", "idle_timeout")
                        >= 1);
        Await.until(
                "pgmux_pool_size of " + REAP_DB + " to drop to 0",
                DEADLINE,
                () -> scrape().value("pgmux_pool_size", "database", REAP_DB) == 0);
    }

    @Test
    void aWrongPasswordCountsAnError28() throws Exception {
        double before = scrape().valueOrZero("pgmux_errors_total", "database", "", "sqlstate_class", "28");
        SQLException e = assertThrows(SQLException.class, () -> pgmux.connect(DB, USER, "not-the-password"));
        assertEquals("28P01", e.getSQLState());
        // Errors before the client's pool is known carry empty database and user.
        assertEquals(1, scrape().value("pgmux_errors_total", "database", "", "sqlstate_class", "28") - before);
        Await.until(
                "the refused client to leave the login gauge",
                DEADLINE,
                () -> scrape().value("pgmux_client_connections", "database", "", "state", "login") == 0);
    }

    @Test
    void healthAndReadyAnswer200AndOtherRequestsAreRefused() throws Exception {
        HttpResponse<String> health = get("/health");
        assertEquals(200, health.statusCode());
        assertEquals("ok", health.body().strip());
        assertEquals(200, get("/ready").statusCode());
        assertEquals(404, get("/nope").statusCode());
        assertEquals(404, get("/").statusCode());
        HttpResponse<String> post = http.send(
                HttpRequest.newBuilder(uri(pgmux.server(), "/metrics"))
                        .timeout(DEADLINE)
                        .POST(HttpRequest.BodyPublishers.ofString("x"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        assertEquals("GET", post.headers().firstValue("allow").orElse(""));
    }

    @Test
    void readyProbesAReachableDatabaseBeforeAnyClientCame() throws Exception {
        TestPostgres pg = pgmux.postgres();
        try (TestProxy proxy = TestProxy.start(metricsOn() + "databases {\n" + database(DB, pg, "") + "}")) {
            assertTrue(proxy.pools().isEmpty());
            assertEquals(200, get(proxy.server(), "/ready").statusCode());
            assertEquals(200, get(proxy.server(), "/ready").statusCode(), "the remembered outcome");
        }
    }

    @Test
    void readyIs503WithOnlyAnUnreachableDatabaseWhileHealthIs200() throws Exception {
        int closed = closedPort();
        try (TestProxy proxy =
                TestProxy.start(metricsOn() + "databases { down { host = \"127.0.0.1\", port = " + closed + " } }")) {
            assertEquals(503, get(proxy.server(), "/ready").statusCode());
            assertEquals(503, get(proxy.server(), "/ready").statusCode(), "the remembered outcome");
            assertEquals(200, get(proxy.server(), "/health").statusCode());
        }
    }

    @Test
    void withMetricsDisabledNothingListensButEverythingCounts() throws Exception {
        TestPostgres pg = pgmux.postgres();
        try (TestProxy proxy = TestProxy.start(
                "auth.users {\n" + user(USER, PASSWORD) + "}\n" + "databases {\n" + database(DB, pg, "") + "}")) {
            assertTrue(proxy.server().metricsAddress().isEmpty());
            try (Connection c = proxy.connect(DB, USER, PASSWORD);
                    Statement s = c.createStatement()) {
                Scrape before = Scrape.parse(proxy.server().metrics().scrape());
                s.execute("SELECT 1");
                Scrape after = Scrape.parse(proxy.server().metrics().scrape());
                assertEquals(1, delta(before, after, "pgmux_queries_total"));
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static String metricsOn() {
        return "metrics { enabled = true, host = \"127.0.0.1\", port = 0 }\n";
    }

    /**
     * The increase between two scrapes of the one {@code name} sample of {@link #USER} with {@code labels}, and of
     * {@link #DB} unless they name a database.
     */
    private static double delta(Scrape before, Scrape after, String name, String... labels) {
        List<String> selector = new ArrayList<>(List.of(labels));
        if (!selector.contains("database")) {
            selector.addAll(List.of("database", DB));
        }
        selector.addAll(List.of("user", USER));
        String[] wanted = selector.toArray(String[]::new);
        return after.valueOrZero(name, wanted) - before.valueOrZero(name, wanted);
    }

    private static Scrape scrape() {
        try {
            HttpResponse<String> response = get("/metrics");
            assertEquals(200, response.statusCode());
            return Scrape.parse(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return get(pgmux.server(), path);
    }

    private static HttpResponse<String> get(PgmuxServer server, String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(uri(server, path))
                        .timeout(DEADLINE)
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(PgmuxServer server, String path) {
        InetSocketAddress address =
                server.metricsAddress().orElseThrow(() -> new AssertionError("metrics are not served"));
        return URI.create("http://" + address.getHostString() + ":" + address.getPort() + path);
    }

    /** A port of 127.0.0.1 where nothing listens (bound, then released). */
    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
