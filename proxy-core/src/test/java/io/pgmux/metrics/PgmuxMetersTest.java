package io.pgmux.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Meter;
import io.pgmux.pool.CloseReason;
import io.pgmux.pool.Pool;
import io.pgmux.pool.PoolKey;
import io.pgmux.protocol.SqlState;
import io.pgmux.session.PinReason;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The names in {@link PgmuxMeters} are what {@code GET /metrics} shows: every meter, registered for a pool and
 * scraped, comes out under its {@code prometheusName()} with the declared type and exactly the declared labels.
 */
class PgmuxMetersTest {
    private static final List<String> DESIGN_NAMES = List.of(
            "pgmux_client_connections",
            "pgmux_server_connections",
            "pgmux_pool_size",
            "pgmux_pool_max_size",
            "pgmux_pool_wait_seconds",
            "pgmux_transactions_total",
            "pgmux_queries_total",
            "pgmux_transaction_duration_seconds",
            "pgmux_query_duration_seconds",
            "pgmux_received_bytes_total",
            "pgmux_sent_bytes_total",
            "pgmux_errors_total",
            "pgmux_server_connects_total",
            "pgmux_server_closes_total",
            "pgmux_client_pins_total");

    @Test
    void everyMeterIsScrapedUnderItsDocumentedNameTypeAndLabels() {
        try (PgmuxMetrics metrics = new PgmuxMetrics()) {
            PoolMetrics pool = metrics.pool(new PoolKey("appdb", "app"), () -> new Pool.Counts(3, 1, 2, 1, 0, 10));
            pool.error(SqlState.INVALID_PASSWORD);
            Scrape scrape = Scrape.parse(metrics.scrape());
            for (PgmuxMeters meter : PgmuxMeters.values()) {
                String name = meter.prometheusName();
                String expectedType =
                        switch (meter.type()) {
                            case GAUGE -> "gauge";
                            case COUNTER -> "counter";
                            case TIMER -> "histogram";
                            default -> throw new AssertionError(meter.type());
                        };
                assertEquals(expectedType, scrape.type(name), meter + " as # TYPE " + name + " in\n" + scrape.text());
                List<Scrape.Sample> series = scrape.samples(meter.type() == Meter.Type.TIMER ? name + "_count" : name);
                assertFalse(series.isEmpty(), meter + ": no series " + name);
                for (Scrape.Sample sample : series) {
                    assertEquals(
                            new TreeSet<>(meter.tagKeys()),
                            new TreeSet<>(sample.labels().keySet()),
                            meter + " labels");
                }
            }
            assertEquals(
                    PgmuxMeters.BUCKETS.length + 1,
                    scrape.samples("pgmux_pool_wait_seconds_bucket", "database", "appdb")
                            .size(),
                    "histogram buckets and +Inf");
            assertFalse(scrape.samples("netty_allocator_memory_used", "memory_type", "direct")
                    .isEmpty());
            assertFalse(scrape.samples("jvm_memory_used_bytes").isEmpty());
            assertFalse(scrape.samples("jvm_threads_live_threads").isEmpty());
        }
    }

    @Test
    void namesAreUniqueAndFollowPrometheusConventions() {
        Set<String> names = new HashSet<>();
        for (PgmuxMeters meter : PgmuxMeters.values()) {
            assertTrue(names.add(meter.prometheusName()), "duplicate " + meter.prometheusName());
            assertTrue(meter.prometheusName().startsWith("pgmux_"), meter.prometheusName());
            assertEquals(
                    meter.type() == Meter.Type.COUNTER, meter.prometheusName().endsWith("_total"), meter.name());
            assertEquals(meter.meterName().replace('.', '_'), withoutSuffixes(meter), meter.name());
            assertFalse(meter.description().isBlank(), meter.name());
        }
        assertTrue(names.containsAll(DESIGN_NAMES), "DESIGN's metrics: " + DESIGN_NAMES + " in " + names);
    }

    @Test
    void gaugesReadThePoolsCountsAndTheClientsStates() {
        try (PgmuxMetrics metrics = new PgmuxMetrics()) {
            PoolMetrics pool = metrics.pool(new PoolKey("appdb", "app"), () -> new Pool.Counts(3, 1, 2, 1, 4, 10));
            ClientMetrics a = metrics.client();
            ClientMetrics b = metrics.client();
            assertEquals(2, metrics.beforeLogin().clients(ClientState.LOGIN));
            a.joined(pool);
            a.state(ClientState.IDLE);
            a.state(ClientState.WAITING);
            b.state(null);
            Scrape scrape = Scrape.parse(metrics.scrape());
            assertEquals(1, scrape.value("pgmux_client_connections", "database", "appdb", "state", "waiting"));
            assertEquals(0, scrape.value("pgmux_client_connections", "database", "appdb", "state", "idle"));
            assertEquals(0, scrape.value("pgmux_client_connections", "database", "", "state", "login"));
            assertEquals(2, scrape.value("pgmux_server_connections", "database", "appdb", "state", "active"));
            assertEquals(1, scrape.value("pgmux_server_connections", "database", "appdb", "state", "idle"));
            assertEquals(1, scrape.value("pgmux_server_connections", "database", "appdb", "state", "login"));
            assertEquals(0, scrape.value("pgmux_server_connections", "database", "appdb", "state", "used"));
            assertEquals(3, scrape.value("pgmux_pool_size", "database", "appdb", "user", "app"));
            assertEquals(10, scrape.value("pgmux_pool_max_size", "database", "appdb", "user", "app"));
        }
    }

    @Test
    void countersAreRegisteredForEveryReasonAndCountEvents() {
        try (PgmuxMetrics metrics = new PgmuxMetrics()) {
            PoolMetrics pool = metrics.pool(new PoolKey("appdb", "app"), () -> new Pool.Counts(0, 0, 0, 0, 0, 5));
            pool.serverConnected();
            pool.serverClosed(CloseReason.IDLE_TIMEOUT);
            pool.clientPinned(PinReason.LISTEN);
            pool.error('4', '2');
            pool.error('4', '2');
            pool.error('x', '\0');
            Scrape scrape = Scrape.parse(metrics.scrape());
            for (CloseReason reason : CloseReason.values()) {
                assertEquals(
                        reason == CloseReason.IDLE_TIMEOUT ? 1 : 0,
                        scrape.value("pgmux_server_closes_total", "reason", PoolMetrics.label(reason)));
            }
            for (PinReason reason : PinReason.values()) {
                assertEquals(
                        reason == PinReason.LISTEN ? 1 : 0,
                        scrape.value("pgmux_client_pins_total", "reason", reason.label()));
            }
            assertEquals(1, scrape.value("pgmux_server_connects_total", "database", "appdb"));
            assertEquals(2, scrape.value("pgmux_errors_total", "sqlstate_class", "42"));
            assertEquals(1, scrape.value("pgmux_errors_total", "sqlstate_class", "unknown"));
        }
    }

    @Test
    void aPoolMadeAgainReplacesTheOldPoolsGauges() {
        try (PgmuxMetrics metrics = new PgmuxMetrics()) {
            PoolKey key = new PoolKey("appdb", "app");
            metrics.pool(key, () -> new Pool.Counts(1, 1, 0, 0, 0, 5));
            metrics.pool(key, () -> new Pool.Counts(2, 2, 0, 0, 0, 7));
            assertEquals(7, Scrape.parse(metrics.scrape()).value("pgmux_pool_max_size", "database", "appdb"));
            metrics.removePool(key);
            assertTrue(Scrape.parse(metrics.scrape())
                    .samples("pgmux_pool_max_size")
                    .isEmpty());
        }
    }

    private static String withoutSuffixes(PgmuxMeters meter) {
        String name = meter.prometheusName();
        if (name.endsWith("_total")) {
            name = name.substring(0, name.length() - "_total".length());
        }
        if (meter.baseUnit() != null && name.endsWith("_" + meter.baseUnit())) {
            name = name.substring(0, name.length() - meter.baseUnit().length() - 1);
        }
        return name;
    }
}
