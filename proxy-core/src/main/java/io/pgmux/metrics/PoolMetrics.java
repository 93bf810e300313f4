package io.pgmux.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.pgmux.pool.CloseReason;
import io.pgmux.pool.Pool;
import io.pgmux.protocol.SqlState;
import io.pgmux.session.PinReason;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The meters of one pool (tags {@code database}, {@code user}), registered once when the pool is made, so that
 * reporting an event is a field read and an add: no lookups, no tags built, no allocation. Safe from any thread.
 *
 * <p>One instance with empty {@code database} and {@code user} holds what happens before a client's pool is known
 * (startup, authentication): clients in login, their bytes and their errors. Keeping those apart means an
 * unauthenticated client cannot create series by naming users or databases.
 */
public final class PoolMetrics {
    /** SQLSTATE classes are two characters of [0-9A-Z]; one more slot for anything else. */
    private static final int SQLSTATE_CLASSES = 36 * 36;

    private static final int UNKNOWN_CLASS = SQLSTATE_CLASSES;

    private final MeterRegistry registry;
    private final Tags tags;
    private final Queue<Meter> meters = new ConcurrentLinkedQueue<>();
    /**
     * Clients by state. Every transaction moves a client twice, from both event loops: striped counters, so that the
     * loops do not bounce one cache line between the cores four times per transaction.
     */
    private final LongAdder[] clients = new LongAdder[ClientState.values().length];

    private final Timer waits;
    private final Timer transactionDurations;
    private final Timer queryDurations;
    private final Counter transactions;
    private final Counter queries;
    private final Counter receivedBytes;
    private final Counter sentBytes;
    private final Counter serverConnects;
    private final Counter serverConnectFailures;
    private final Counter crossLoopLeases;
    private final Counter[] serverCloses = new Counter[CloseReason.values().length];
    private final Counter[] clientPins = new Counter[PinReason.values().length];
    /** Made on first use: most pools only ever see a few classes. */
    private final AtomicReferenceArray<Counter> errors = new AtomicReferenceArray<>(SQLSTATE_CLASSES + 1);

    private PoolMetrics(MeterRegistry registry, String database, String user, Supplier<Pool.Counts> counts) {
        this.registry = registry;
        this.tags = Tags.of(PgmuxMeters.TagKey.DATABASE, database, PgmuxMeters.TagKey.USER, user);
        for (ClientState state : ClientState.values()) {
            clients[state.ordinal()] = new LongAdder();
        }
        boolean pooled = counts != null;
        for (ClientState state : ClientState.values()) {
            if (pooled || state == ClientState.LOGIN) {
                add(PgmuxMeters.CLIENT_CONNECTIONS.gauge(
                        registry, tags.and(PgmuxMeters.TagKey.STATE, state.label()), this, m -> m.clients(state)));
            }
        }
        receivedBytes = add(PgmuxMeters.RECEIVED_BYTES.counter(registry, tags));
        sentBytes = add(PgmuxMeters.SENT_BYTES.counter(registry, tags));
        if (!pooled) {
            // Nothing below can happen before a client has a pool.
            waits = PgmuxMeters.POOL_WAIT.noopTimer(tags);
            transactionDurations = PgmuxMeters.TRANSACTION_DURATION.noopTimer(tags);
            queryDurations = PgmuxMeters.QUERY_DURATION.noopTimer(tags);
            transactions = PgmuxMeters.TRANSACTIONS.noopCounter(tags);
            queries = PgmuxMeters.QUERIES.noopCounter(tags);
            serverConnects = PgmuxMeters.SERVER_CONNECTS.noopCounter(tags);
            serverConnectFailures = PgmuxMeters.SERVER_CONNECT_FAILURES.noopCounter(tags);
            crossLoopLeases = PgmuxMeters.CROSS_LOOP_LEASES.noopCounter(tags);
            for (CloseReason reason : CloseReason.values()) {
                serverCloses[reason.ordinal()] =
                        PgmuxMeters.SERVER_CLOSES.noopCounter(tags.and(PgmuxMeters.TagKey.REASON, label(reason)));
            }
            for (PinReason reason : PinReason.values()) {
                clientPins[reason.ordinal()] =
                        PgmuxMeters.CLIENT_PINS.noopCounter(tags.and(PgmuxMeters.TagKey.REASON, reason.label()));
            }
            return;
        }
        // Each gauge takes a snapshot: Pool.counts() holds the pool's lock for a few field reads, never I/O.
        add(PgmuxMeters.SERVER_CONNECTIONS.gauge(
                registry, serverState("active"), counts, c -> c.get().leased()));
        add(PgmuxMeters.SERVER_CONNECTIONS.gauge(
                registry, serverState("idle"), counts, c -> c.get().idle()));
        // pgmux does not yet hold released servers aside for a check before reuse (PgBouncer's sv_used).
        add(PgmuxMeters.SERVER_CONNECTIONS.gauge(registry, serverState("used"), counts, c -> 0));
        add(PgmuxMeters.SERVER_CONNECTIONS.gauge(
                registry, serverState("login"), counts, c -> c.get().connecting()));
        add(PgmuxMeters.POOL_SIZE.gauge(registry, tags, counts, c -> c.get().open()));
        add(PgmuxMeters.POOL_MAX_SIZE.gauge(registry, tags, counts, c -> c.get().maxSize()));
        waits = add(PgmuxMeters.POOL_WAIT.timer(registry, tags));
        transactionDurations = add(PgmuxMeters.TRANSACTION_DURATION.timer(registry, tags));
        queryDurations = add(PgmuxMeters.QUERY_DURATION.timer(registry, tags));
        transactions = add(PgmuxMeters.TRANSACTIONS.counter(registry, tags));
        queries = add(PgmuxMeters.QUERIES.counter(registry, tags));
        serverConnects = add(PgmuxMeters.SERVER_CONNECTS.counter(registry, tags));
        serverConnectFailures = add(PgmuxMeters.SERVER_CONNECT_FAILURES.counter(registry, tags));
        crossLoopLeases = add(PgmuxMeters.CROSS_LOOP_LEASES.counter(registry, tags));
        for (CloseReason reason : CloseReason.values()) {
            serverCloses[reason.ordinal()] = add(
                    PgmuxMeters.SERVER_CLOSES.counter(registry, tags.and(PgmuxMeters.TagKey.REASON, label(reason))));
        }
        for (PinReason reason : PinReason.values()) {
            clientPins[reason.ordinal()] =
                    add(PgmuxMeters.CLIENT_PINS.counter(registry, tags.and(PgmuxMeters.TagKey.REASON, reason.label())));
        }
    }

    /** The meters of a pool; its gauges read {@code counts} at scrape time. */
    static PoolMetrics forPool(MeterRegistry registry, String database, String user, Supplier<Pool.Counts> counts) {
        return new PoolMetrics(registry, database, user, counts);
    }

    /** The meters of clients whose pool is not known yet. */
    static PoolMetrics beforeLogin(MeterRegistry registry) {
        return new PoolMetrics(registry, "", "", null);
    }

    // ---- clients ----------------------------------------------------------------------------

    /** Moves one client between states; {@code null} on either side means "not counted here". */
    public void clientStateChanged(ClientState from, ClientState to) {
        if (from != null) {
            clients[from.ordinal()].decrement();
        }
        if (to != null) {
            clients[to.ordinal()].increment();
        }
    }

    /** Clients in {@code state} now. */
    public int clients(ClientState state) {
        // A sum taken while clients move may see a move's second half first: never below zero.
        return (int) Math.max(0, clients[state.ordinal()].sum());
    }

    public void waited(long nanos) {
        waits.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void transactionDone(long nanos) {
        transactions.increment();
        transactionDurations.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void queryDone(long nanos) {
        queries.increment();
        queryDurations.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void bytesReceived(long bytes) {
        receivedBytes.increment(bytes);
    }

    public void bytesSent(long bytes) {
        sentBytes.increment(bytes);
    }

    /** A client was kept on its server connection by session state of this kind. */
    public void clientPinned(PinReason reason) {
        clientPins[reason.ordinal()].increment();
    }

    // ---- errors -----------------------------------------------------------------------------

    /** An ErrorResponse pgmux made itself went to a client. */
    public void error(SqlState sqlState) {
        String code = sqlState.code();
        error(code.charAt(0), code.charAt(1));
    }

    /** An ErrorResponse whose SQLSTATE starts with these two characters went to a client. */
    public void error(char first, char second) {
        int a = Character.digit(first, 36);
        int b = Character.digit(second, 36);
        int index = a < 0 || b < 0 ? UNKNOWN_CLASS : a * 36 + b;
        Counter counter = errors.get(index);
        if (counter == null) {
            counter = errorCounter(index);
        }
        counter.increment();
    }

    private Counter errorCounter(int index) {
        String sqlClass = index == UNKNOWN_CLASS
                ? "unknown"
                : ("" + Character.forDigit(index / 36, 36) + Character.forDigit(index % 36, 36))
                        .toUpperCase(Locale.ROOT);
        // Registering twice yields the same counter, so a race between two loops here is harmless.
        Counter counter =
                add(PgmuxMeters.ERRORS.counter(registry, tags.and(PgmuxMeters.TagKey.SQLSTATE_CLASS, sqlClass)));
        errors.set(index, counter);
        return counter;
    }

    // ---- servers ----------------------------------------------------------------------------

    public void serverConnected() {
        serverConnects.increment();
    }

    public void serverConnectFailed() {
        serverConnectFailures.increment();
    }

    /** A server went to a client on another event loop. */
    public void leasedAcrossLoops() {
        crossLoopLeases.increment();
    }

    public void serverClosed(CloseReason reason) {
        serverCloses[reason.ordinal()].increment();
    }

    /** Removes this pool's meters from the registry (the pool is gone). */
    void close() {
        for (Meter meter = meters.poll(); meter != null; meter = meters.poll()) {
            registry.remove(meter);
        }
    }

    private Tags serverState(String state) {
        return tags.and(PgmuxMeters.TagKey.STATE, state);
    }

    private <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    static String label(CloseReason reason) {
        return reason.name().toLowerCase(Locale.ROOT);
    }
}
