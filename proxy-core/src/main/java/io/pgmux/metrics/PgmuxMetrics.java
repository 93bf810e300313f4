package io.pgmux.metrics;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import io.pgmux.pool.Pool;
import io.pgmux.pool.PoolKey;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * pgmux's meter registry (Prometheus): JVM meters (memory, GC, threads, class loading, CPU, uptime), the Netty
 * allocator's memory and, once bound, the event loops' pending tasks, and the meters of {@link PgmuxMeters} per pool.
 * It exists whether or not {@code metrics.enabled} serves it over HTTP, so that counting never depends on the
 * setting. Nothing here reads a pool's state except the gauges, at scrape time, through {@link Pool#counts()}.
 */
public final class PgmuxMetrics implements AutoCloseable {
    /** Content type of {@link #scrape}: the Prometheus text format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final LongSupplier nanoClock;
    private final PoolMetrics beforeLogin;
    private final Map<PoolKey, PoolMetrics> pools = new ConcurrentHashMap<>();

    public PgmuxMetrics() {
        this(System::nanoTime);
    }

    /** With the clock that times waits, queries and transactions. */
    public PgmuxMetrics(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        // Channels allocate from ByteBufAllocator.DEFAULT, which is this pooled allocator unless
        // io.netty.allocator.type says otherwise.
        new NettyAllocatorMetrics(PooledByteBufAllocator.DEFAULT).bindTo(registry);
        this.beforeLogin = PoolMetrics.beforeLogin(registry);
    }

    /**
     * Adds {@code netty_eventexecutor_tasks_pending} for each loop of {@code loops}. Call from outside the loops: Netty
     * starts a loop's thread to learn its name.
     */
    public void bindEventLoops(Iterable<EventExecutor> loops) {
        new NettyEventExecutorMetrics(loops).bindTo(registry);
    }

    /**
     * Registers the meters of a new pool; its gauges call {@code counts} at scrape time. A pool made again under the
     * same key replaces the old one's meters.
     */
    public PoolMetrics pool(PoolKey key, Supplier<Pool.Counts> counts) {
        return pools.compute(key, (k, old) -> {
            if (old != null) {
                // Micrometer would hand back the old pool's gauges, still reading the old pool.
                old.close();
            }
            return PoolMetrics.forPool(registry, k.database(), k.user(), counts);
        });
    }

    /** Removes a pool's meters (the pool is gone for good). */
    public void removePool(PoolKey key) {
        PoolMetrics old = pools.remove(key);
        if (old != null) {
            old.close();
        }
    }

    /** A new client's reporter, counted in login until its pool is known. */
    public ClientMetrics client() {
        return new ClientMetrics(beforeLogin, nanoClock);
    }

    /** The meters of clients whose pool is not known yet. */
    public PoolMetrics beforeLogin() {
        return beforeLogin;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Every meter in the Prometheus text format ({@link #CONTENT_TYPE}). */
    public String scrape() {
        return registry.scrape();
    }

    /** Writes every meter in the Prometheus text format ({@link #CONTENT_TYPE}) to {@code out}. */
    public void scrape(OutputStream out) throws IOException {
        registry.scrape(out);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
