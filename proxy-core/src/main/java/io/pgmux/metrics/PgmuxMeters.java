package io.pgmux.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.noop.NoopCounter;
import io.micrometer.core.instrument.noop.NoopTimer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Every meter pgmux publishes itself, in one place: its Micrometer name, the name Prometheus shows, type,
 * base unit, tag keys and meaning. {@code docs/metrics.md} is the operator's copy of this table. JVM and Netty
 * meters come from Micrometer's binders and keep Micrometer's names.
 *
 * <p>Micrometer's Prometheus naming turns dots into underscores, appends the base unit ({@code seconds},
 * {@code bytes}) and gives counters {@code _total}; {@link #prometheusName()} is what comes out, and a unit test
 * checks that the two agree.
 */
public enum PgmuxMeters {
    CLIENT_CONNECTIONS(
            "pgmux.client.connections",
            "pgmux_client_connections",
            Meter.Type.GAUGE,
            null,
            "clients by state: login (before the first ReadyForQuery), idle, waiting (for a server), active (a server"
                    + " attached)",
            TagKey.DATABASE,
            TagKey.USER,
            TagKey.STATE),
    SERVER_CONNECTIONS(
            "pgmux.server.connections",
            "pgmux_server_connections",
            Meter.Type.GAUGE,
            null,
            "server connections by state: login (connecting), idle (in the pool), active (leased to a client), used"
                    + " (released, awaiting a check before reuse)",
            TagKey.DATABASE,
            TagKey.USER,
            TagKey.STATE),
    POOL_SIZE(
            "pgmux.pool.size",
            "pgmux_pool_size",
            Meter.Type.GAUGE,
            null,
            "server connections open (logged in) in the pool",
            TagKey.DATABASE,
            TagKey.USER),
    POOL_MAX_SIZE(
            "pgmux.pool.max.size",
            "pgmux_pool_max_size",
            Meter.Type.GAUGE,
            null,
            "server connections the pool may open (pool.size)",
            TagKey.DATABASE,
            TagKey.USER),
    POOL_WAIT(
            "pgmux.pool.wait",
            "pgmux_pool_wait_seconds",
            Meter.Type.TIMER,
            "seconds",
            "time a client waited for a server, from asking the pool until it got one or gave up",
            TagKey.DATABASE,
            TagKey.USER),
    TRANSACTIONS(
            "pgmux.transactions",
            "pgmux_transactions_total",
            Meter.Type.COUNTER,
            null,
            "completed transactions: ReadyForQuery with status idle after the client sent something",
            TagKey.DATABASE,
            TagKey.USER),
    QUERIES(
            "pgmux.queries",
            "pgmux_queries_total",
            Meter.Type.COUNTER,
            null,
            "completed queries: Query, Sync or FunctionCall round trips ended by ReadyForQuery",
            TagKey.DATABASE,
            TagKey.USER),
    TRANSACTION_DURATION(
            "pgmux.transaction.duration",
            "pgmux_transaction_duration_seconds",
            Meter.Type.TIMER,
            "seconds",
            "transaction time as pgmux sees it, from the client's first message to ReadyForQuery with status idle",
            TagKey.DATABASE,
            TagKey.USER),
    QUERY_DURATION(
            "pgmux.query.duration",
            "pgmux_query_duration_seconds",
            Meter.Type.TIMER,
            "seconds",
            "query time as pgmux sees it, from the client's first message of a round trip to its ReadyForQuery",
            TagKey.DATABASE,
            TagKey.USER),
    RECEIVED_BYTES(
            "pgmux.received",
            "pgmux_received_bytes_total",
            Meter.Type.COUNTER,
            "bytes",
            "bytes received from clients (typed messages after the startup packet)",
            TagKey.DATABASE,
            TagKey.USER),
    SENT_BYTES(
            "pgmux.sent",
            "pgmux_sent_bytes_total",
            Meter.Type.COUNTER,
            "bytes",
            "bytes sent to clients, relayed from servers or made by pgmux",
            TagKey.DATABASE,
            TagKey.USER),
    ERRORS(
            "pgmux.errors",
            "pgmux_errors_total",
            Meter.Type.COUNTER,
            null,
            "ErrorResponses sent to clients, relayed from PostgreSQL or made by pgmux, by SQLSTATE class",
            TagKey.DATABASE,
            TagKey.USER,
            TagKey.SQLSTATE_CLASS),
    SERVER_CONNECTS(
            "pgmux.server.connects",
            "pgmux_server_connects_total",
            Meter.Type.COUNTER,
            null,
            "server connections opened and logged in",
            TagKey.DATABASE,
            TagKey.USER),
    SERVER_CONNECT_FAILURES(
            "pgmux.server.connect.failures",
            "pgmux_server_connect_failures_total",
            Meter.Type.COUNTER,
            null,
            "server connections that could not connect or log in",
            TagKey.DATABASE,
            TagKey.USER),
    SERVER_CLOSES(
            "pgmux.server.closes",
            "pgmux_server_closes_total",
            Meter.Type.COUNTER,
            null,
            "logged-in server connections closed, by CloseReason",
            TagKey.DATABASE,
            TagKey.USER,
            TagKey.REASON),
    CLIENT_PINS(
            "pgmux.client.pins",
            "pgmux_client_pins_total",
            Meter.Type.COUNTER,
            null,
            "clients kept on one server connection, by kind of session state (PinReason)",
            TagKey.DATABASE,
            TagKey.USER,
            TagKey.REASON),
    CROSS_LOOP_LEASES(
            "pgmux.pool.cross.loop.leases",
            "pgmux_pool_cross_loop_leases_total",
            Meter.Type.COUNTER,
            null,
            "servers handed to a client served by another event loop than the server: each message then wakes both loops",
            TagKey.DATABASE,
            TagKey.USER);

    /** The tag keys pgmux's meters use. */
    public static final class TagKey {
        /** The database name the client asked for; empty before the client's pool is known. */
        public static final String DATABASE = "database";
        /** The pool's user; empty before the client's pool is known. */
        public static final String USER = "user";

        public static final String STATE = "state";
        public static final String REASON = "reason";
        /** The first two characters of a SQLSTATE, e.g. {@code 28}. */
        public static final String SQLSTATE_CLASS = "sqlstate_class";

        private TagKey() {}
    }

    /**
     * Bucket bounds of every timer histogram: from a quarter millisecond (a pooled transaction on a local network)
     * to a minute. Explicit bounds keep a pool's series few (18 per timer) where a percentile histogram would add
     * about 70.
     */
    static final Duration[] BUCKETS = {
        Duration.ofNanos(250_000),
        Duration.ofNanos(500_000),
        Duration.ofMillis(1),
        Duration.ofNanos(2_500_000),
        Duration.ofMillis(5),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(50),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofMillis(2500),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60)
    };

    private final String meterName;
    private final String prometheusName;
    private final Meter.Type type;
    private final String baseUnit;
    private final String description;
    private final List<String> tagKeys;

    PgmuxMeters(
            String meterName,
            String prometheusName,
            Meter.Type type,
            String baseUnit,
            String description,
            String... tagKeys) {
        this.meterName = meterName;
        this.prometheusName = prometheusName;
        this.type = type;
        this.baseUnit = baseUnit;
        this.description = description;
        this.tagKeys = List.of(tagKeys);
    }

    /** The Micrometer name, e.g. {@code pgmux.transactions}. */
    public String meterName() {
        return meterName;
    }

    /**
     * The name in {@code GET /metrics}, e.g. {@code pgmux_transactions_total}; timers add _bucket, _count, _sum, _max.
     */
    public String prometheusName() {
        return prometheusName;
    }

    public Meter.Type type() {
        return type;
    }

    /** {@code seconds}, {@code bytes}, or null. */
    public String baseUnit() {
        return baseUnit;
    }

    public String description() {
        return description;
    }

    /** The tag keys every series of this meter carries, in declaration order. */
    public List<String> tagKeys() {
        return tagKeys;
    }

    /** Registers (or finds) this counter with {@code tags}, which must have exactly {@link #tagKeys()}. */
    Counter counter(MeterRegistry registry, Tags tags) {
        check(Meter.Type.COUNTER, tags);
        return Counter.builder(meterName)
                .description(description)
                .baseUnit(baseUnit)
                .tags(tags)
                .register(registry);
    }

    /** Registers (or finds) this timer, with the histogram buckets of {@link #BUCKETS}. */
    Timer timer(MeterRegistry registry, Tags tags) {
        check(Meter.Type.TIMER, tags);
        return Timer.builder(meterName)
                .description(description)
                .serviceLevelObjectives(BUCKETS)
                .tags(tags)
                .register(registry);
    }

    /** Registers (or finds) this gauge over {@code source}, held strongly so that it lives as long as the gauge. */
    <T> Gauge gauge(MeterRegistry registry, Tags tags, T source, ToDoubleFunction<T> value) {
        check(Meter.Type.GAUGE, tags);
        return Gauge.builder(meterName, source, value)
                .description(description)
                .baseUnit(baseUnit)
                .tags(tags)
                .strongReference(true)
                .register(registry);
    }

    /** A counter that counts nothing and is not registered, for meters that cannot apply to a series. */
    Counter noopCounter(Tags tags) {
        check(Meter.Type.COUNTER, tags);
        return new NoopCounter(new Meter.Id(meterName, tags, baseUnit, description, Meter.Type.COUNTER));
    }

    Timer noopTimer(Tags tags) {
        check(Meter.Type.TIMER, tags);
        return new NoopTimer(new Meter.Id(meterName, tags, baseUnit, description, Meter.Type.TIMER));
    }

    private void check(Meter.Type expected, Tags tags) {
        if (type != expected) {
            throw new IllegalArgumentException(this + " is a " + type + ", not a " + expected);
        }
        List<String> keys = new ArrayList<>();
        for (Tag tag : tags) {
            keys.add(tag.getKey());
        }
        // Prometheus wants every series of a name to carry the same label names.
        if (!keys.containsAll(tagKeys) || keys.size() != tagKeys.size()) {
            throw new IllegalArgumentException(this + " takes tags " + tagKeys + ", got " + keys);
        }
    }
}
