package io.pgmux.metrics;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.pgmux.Transport;
import io.pgmux.config.DatabaseConfig;
import io.pgmux.pool.PoolRegistry;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers {@code /ready}: is at least one configured database reachable? Yes at once when some pool has a server
 * open. Otherwise a TCP connect to each configured database's host and port answers, at most once per
 * {@link #PROBE_INTERVAL}; requests in between get the remembered outcome, and requests during a probe share it.
 * Nothing blocks: the answer is a future.
 */
final class Readiness {
    private static final Logger log = LoggerFactory.getLogger(Readiness.class);
    static final Duration PROBE_INTERVAL = Duration.ofSeconds(5);
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

    private record Address(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    private final PoolRegistry registry;
    private final Transport transport;
    private final LongSupplier nanoClock;
    private final Object lock = new Object();
    // The last probe's outcome and the probe running, guarded by lock.
    private boolean probed;
    private long probedAtNanos;
    private boolean reachable;
    private Promise<Boolean> probing;

    Readiness(PoolRegistry registry, Transport transport, LongSupplier nanoClock) {
        this.registry = registry;
        this.transport = transport;
        this.nanoClock = nanoClock;
    }

    /** Whether pgmux is ready; the future completes on {@code loop} or on the loop of a probe already running. */
    Future<Boolean> check(EventLoop loop) {
        if (registry.pools().stream().anyMatch(pool -> pool.counts().open() > 0)) {
            return loop.newSucceededFuture(true);
        }
        Promise<Boolean> promise;
        synchronized (lock) {
            if (probed && nanoClock.getAsLong() - probedAtNanos < PROBE_INTERVAL.toNanos()) {
                return loop.newSucceededFuture(reachable);
            }
            if (probing != null) {
                return probing;
            }
            promise = loop.newPromise();
            probing = promise;
        }
        probe(loop, promise);
        return promise;
    }

    private void probe(EventLoop loop, Promise<Boolean> promise) {
        Set<Address> targets = new LinkedHashSet<>();
        for (DatabaseConfig db : registry.config().databases().values()) {
            targets.add(new Address(db.host(), db.port()));
        }
        if (targets.isEmpty()) {
            finish(promise, false);
            return;
        }
        AtomicInteger left = new AtomicInteger(targets.size());
        for (Address target : targets) {
            // Like ServerConnector, the host name is resolved by Netty's default resolver.
            ChannelFuture connect = new Bootstrap()
                    .group(loop)
                    .channel(transport.clientChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) PROBE_TIMEOUT.toMillis())
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(target.host(), target.port());
            connect.addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    f.channel().close();
                    finish(promise, true);
                } else {
                    log.debug(
                            "ready check: cannot connect to database server {}: {}",
                            target,
                            f.cause().toString());
                    if (left.decrementAndGet() == 0) {
                        finish(promise, false);
                    }
                }
            });
        }
    }

    private void finish(Promise<Boolean> promise, boolean outcome) {
        synchronized (lock) {
            if (probing != promise) {
                return; // a later target answered after the first success settled it
            }
            probing = null;
            probed = true;
            probedAtNanos = nanoClock.getAsLong();
            reachable = outcome;
        }
        promise.trySuccess(outcome);
    }
}
