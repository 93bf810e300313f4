package io.pgmux.bench;

import io.pgmux.pool.Decision;
import io.pgmux.pool.PoolLimits;
import io.pgmux.pool.PoolState;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pool's decision logic on every transaction: a client acquires an idle server (a Lease) and releases it at the
 * end of its transaction. Pool size 20 with all 20 servers idle, as in the comparison.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PoolStateBenchmark {
    private static final int SIZE = 20;

    private PoolState<Integer, Integer> pool;
    private long now;

    @Setup
    public void setUp() {
        pool = new PoolState<>(new PoolLimits(SIZE, 0, Duration.ofMinutes(10), Duration.ofHours(1)));
        now = System.nanoTime();
        for (int i = 0; i < SIZE; i++) {
            pool.acquire(i, now, s -> true);
        }
        for (int i = 0; i < SIZE; i++) {
            giveBack(pool.connected(i, pool.generation(), now));
        }
        if (pool.idleCount() != SIZE) {
            throw new IllegalStateException("expected " + SIZE + " idle servers, got " + pool.idleCount());
        }
    }

    /** Each connect hands its server to a waiting client, which gives it straight back: all end up idle. */
    private void giveBack(List<Decision<Integer, Integer>> decisions) {
        for (Decision<Integer, Integer> d : decisions) {
            if (d instanceof Decision.Lease<Integer, Integer> lease) {
                giveBack(pool.release(lease.server(), null, now));
            }
        }
    }

    @Benchmark
    public int acquireAndRelease() {
        now += 1_000;
        List<Decision<Integer, Integer>> acquired = pool.acquire(7, now, s -> true);
        Integer server = ((Decision.Lease<Integer, Integer>) acquired.get(0)).server();
        return pool.release(server, null, now).size() + server;
    }
}
