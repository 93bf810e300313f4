package io.pgmux.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.pgmux.Transport;
import io.pgmux.config.ConfigLoader;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.server.ServerConnector;
import io.pgmux.tls.TlsContexts;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Pools made from the configuration, and reloads racing with their creation. No server is ever connected. */
class PoolRegistryTest {
    private final EventLoop loop = new DefaultEventLoop();
    private final ExecutorService threads = Executors.newFixedThreadPool(2);

    @AfterEach
    void stop() {
        threads.shutdownNow();
        loop.shutdownGracefully();
    }

    /**
     * Clients log in to new databases (each a new pool, through the "*" entry) while a reload changes the pool size:
     * once both are done, every pool has the size of the configuration in force, whichever came first.
     */
    @Test
    void aPoolCreatedWhileAReloadRunsEndsWithTheNewSettings() throws Exception {
        PgmuxConfig small = config(3);
        PgmuxConfig big = config(7);
        ServerConnector connector = new ServerConnector(
                Transport.best(), 1 << 20, TlsContexts.disabled().server());
        PoolRegistry registry = new PoolRegistry(small, connector, System::nanoTime, new PgmuxMetrics());
        for (int round = 0; round < 40; round++) {
            PgmuxConfig next = round % 2 == 0 ? big : small;
            String prefix = "db_" + round + "_";
            CountDownLatch go = new CountDownLatch(1);
            Future<?> creating = threads.submit(() -> {
                go.await();
                for (int i = 0; i < 10; i++) {
                    registry.pool(prefix + i, "app");
                }
                return null;
            });
            Future<?> reloading = threads.submit(() -> {
                go.await();
                registry.reconfigure(next, loop);
                return null;
            });
            go.countDown();
            creating.get();
            reloading.get();
            for (Pool pool : registry.pools()) {
                assertEquals(
                        next.pool().size(),
                        pool.settings().size(),
                        "round " + round + ": pool " + pool.key() + " kept the settings of before the reload");
            }
        }
        registry.closeAll(loop);
    }

    private static PgmuxConfig config(int size) throws Exception {
        return ConfigLoader.fromString(
                "pgmux { pool.size = " + size + ", databases { \"*\" { host = \"127.0.0.1\", port = 1 } } }");
    }
}
