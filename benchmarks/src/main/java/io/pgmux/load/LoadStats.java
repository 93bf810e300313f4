package io.pgmux.load;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the clients report, written from the event loops and read by the harness's main thread: transaction and
 * login latencies (HdrHistogram recorders, read interval by interval), errors by SQLSTATE, connected clients.
 */
final class LoadStats {
    /** Latencies are recorded in nanoseconds up to this; longer ones are clamped. */
    static final long HIGHEST_NANOS = TimeUnit.MINUTES.toNanos(5);

    /** The error key for a connection that could not be opened, or that closed without a FATAL. */
    static final String CONNECTION_FAILED = "connect";

    static final String CONNECTION_LOST = "closed";

    private final Recorder transactions = new Recorder(HIGHEST_NANOS, 3);
    private final Recorder logins = new Recorder(HIGHEST_NANOS, 3);
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final AtomicInteger connected = new AtomicInteger();
    private volatile boolean counting = true;

    void transaction(long nanos) {
        transactions.recordValue(Math.min(nanos, HIGHEST_NANOS));
    }

    void login(long nanos) {
        logins.recordValue(Math.min(nanos, HIGHEST_NANOS));
    }

    void error(String sqlState) {
        if (counting) {
            errors.computeIfAbsent(sqlState, k -> new LongAdder()).increment();
        }
    }

    /** Errors while the run shuts down (connections closing under it) are not the target's fault. */
    void stopCounting() {
        counting = false;
    }

    void connected() {
        connected.incrementAndGet();
    }

    void disconnected() {
        connected.decrementAndGet();
    }

    int connectedClients() {
        return connected.get();
    }

    /** Transaction latencies since the last call. */
    Histogram transactionInterval() {
        return transactions.getIntervalHistogram();
    }

    Histogram loginInterval() {
        return logins.getIntervalHistogram();
    }

    Map<String, Long> errors() {
        Map<String, Long> copy = new TreeMap<>();
        errors.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    long errorCount() {
        return errors.values().stream().mapToLong(LongAdder::sum).sum();
    }

    void clearErrors() {
        errors.clear();
    }
}
