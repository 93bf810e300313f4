package io.pgmux.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.pgmux.Transport;
import io.pgmux.config.ConfigLoader;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.server.ServerConnection;
import io.pgmux.server.ServerConnector;
import io.pgmux.testkit.TestPostgres;
import io.pgmux.tls.TlsContexts;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A {@link Pool} answers a request by a direct call when it can, and an answer can release the server at once, which
 * answers the next request inside the same call: clients still logging in only need to know that a server is there.
 * Hundreds of such requests waiting for a pool's first server make a chain as long as the queue; the pool cuts it into
 * pieces of at most {@link Pool#MAX_NESTED_ANSWERS} nested answers, so the event loop's stack stays short. The pool's
 * one server is a real PostgreSQL connection.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NestedAnswersIT {
    private static final String DB = "it_nested_answers";
    private static final String USER = "it_nested_answers_user";
    private static final String PASSWORD = "nested-answers-pw";
    /** Far more than the bound: without it, the answers would nest this deep. */
    private static final int REQUESTS = 500;

    @Test
    void requestsThatReleaseAtOnceNestNoDeeperThanTheBound() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        Transport transport = Transport.best();
        // One loop: every answer may run inside the release before it, so the chain is as long as it can get.
        EventLoopGroup loops = transport.newGroup(1, new DefaultThreadFactory("it-nested-answers", true));
        EventLoop loop = loops.next();
        PoolRegistry registry = new PoolRegistry(
                config(pg),
                new ServerConnector(transport, 1 << 20, TlsContexts.disabled().server()),
                System::nanoTime,
                new PgmuxMetrics());
        try {
            Pool pool = registry.pool(DB, USER).orElseThrow();
            Chain chain = new Chain(pool, loop);
            // All in one task: the first request starts the connect, which cannot complete before the others wait.
            loop.submit(() -> {
                        for (int i = 0; i < REQUESTS; i++) {
                            pool.acquire(chain.new ReleasingRequest());
                        }
                    })
                    .get(10, TimeUnit.SECONDS);

            assertTrue(
                    chain.answered.await(30, TimeUnit.SECONDS),
                    (REQUESTS - chain.answered.getCount()) + " of " + REQUESTS + " requests answered");
            assertNull(chain.refusal.get(), "no request refused");
            int deepest = loop.submit(() -> chain.deepest).get(10, TimeUnit.SECONDS);
            // Exactly the bound: the chain reached it (the test builds what it is about) and went no deeper. Without
            // the
            // bound the answers would nest as deep as the queue is long.
            assertEquals(Pool.MAX_NESTED_ANSWERS, deepest, "how deep answers nested, most");
            Pool.Counts counts = pool.counts();
            assertEquals(1, counts.open(), "one server served every request: " + counts);
            assertEquals(0, counts.leased(), "none leased: " + counts);
            assertEquals(0, counts.waiting(), "none waiting: " + counts);
            assertEquals(1, pg.countConnections(USER), "PostgreSQL sees the pool's one server");
        } finally {
            registry.closeAll(loop);
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
    }

    private static PgmuxConfig config(TestPostgres pg) throws Exception {
        return ConfigLoader.fromString("pgmux {\n"
                + "  auth.users { " + USER + " { password = \"" + PASSWORD + "\" } }\n"
                + "  pool.size = 1\n"
                + "  databases { " + DB + " { host = \"" + pg.host() + "\", port = " + pg.port() + " } }\n"
                + "}\n");
    }

    /** The requests of one test on one loop, and what their answers saw; {@link #deepest} is touched only there. */
    private static final class Chain {
        private final Pool pool;
        private final EventLoop loop;
        private final CountDownLatch answered = new CountDownLatch(REQUESTS);
        private final AtomicReference<PgmuxException> refusal = new AtomicReference<>();
        private int deepest;

        Chain(Pool pool, EventLoop loop) {
            this.pool = pool;
            this.loop = loop;
        }

        /** As a client still logging in: gives the server back the moment it has it. */
        final class ReleasingRequest implements ServerRequest {
            @Override
            public EventLoop eventLoop() {
                return loop;
            }

            @Override
            public void granted(ServerConnection server) {
                deepest = Math.max(deepest, nestedAnswers());
                answered.countDown();
                pool.release(server, null);
            }

            @Override
            public void refused(PgmuxException error) {
                refusal.compareAndSet(null, error);
                answered.countDown();
            }
        }

        /** How many answers are on this thread's stack, this one included. */
        private static int nestedAnswers() {
            String granted = ReleasingRequest.class.getName();
            long count = StackWalker.getInstance()
                    .walk(frames -> frames.filter(f -> f.getClassName().equals(granted)
                                    && f.getMethodName().equals("granted"))
                            .count());
            return Math.toIntExact(count);
        }
    }
}
