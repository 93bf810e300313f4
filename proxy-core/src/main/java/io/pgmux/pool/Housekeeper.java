package io.pgmux.pool;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A periodic tick on one event loop: every pool reaps idle and old servers and tops up min-size. */
public final class Housekeeper {
    private static final Logger log = LoggerFactory.getLogger(Housekeeper.class);

    private final PoolRegistry registry;
    private final EventLoop loop;
    private final Duration period;
    private ScheduledFuture<?> tick;

    public Housekeeper(PoolRegistry registry, EventLoop loop, Duration period) {
        this.registry = registry;
        this.loop = loop;
        this.period = period;
    }

    public void start() {
        long millis = period.toMillis();
        tick = loop.scheduleAtFixedRate(this::run, millis, millis, TimeUnit.MILLISECONDS);
    }

    public void stop() {
        if (tick != null) {
            tick.cancel(false);
        }
    }

    private void run() {
        try {
            registry.reap(loop);
        } catch (RuntimeException e) {
            // A bug in one tick must not stop housekeeping for good.
            log.error("housekeeping failed", e);
        }
    }
}
