package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Cancels under load: while many clients run short transactions over a small pool, cancel
 * requests (each on a new connection) stop exactly the queries they name and nothing else.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CancelUnderLoadIT {
    private static final String DB = "it_cancel_load";
    private static final String USER = "it_cancel_load_user";
    private static final String PASSWORD = "it-cancel-load-pw";

    @Test
    void cancelsHitOnlyTheirOwnQueriesWhileOthersKeepWorking() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        try (TestProxy proxy = TestProxy.start("auth.users { " + user(USER, PASSWORD) + " }\n"
                + "pool { size = 6, query-wait-timeout = 30s }\n"
                + "databases { " + database(DB, pg, "") + " }")) {
            ExecutorService threads = Executors.newFixedThreadPool(24);
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger background = new AtomicInteger();
            try {
                List<Future<?>> busy = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    busy.add(threads.submit(() -> {
                        try (Connection c = proxy.connect(DB, USER, PASSWORD);
                                Statement s = c.createStatement()) {
                            while (running.get()) {
                                s.execute("SELECT pg_sleep(0.002)");
                                background.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (int round = 0; round < 4; round++) {
                    try (Connection victim = proxy.connect(DB, USER, PASSWORD);
                            Statement sleeper = victim.createStatement()) {
                        Future<SQLException> outcome = threads.submit(() -> {
                            try {
                                sleeper.execute("SELECT pg_sleep(30)");
                                return null;
                            } catch (SQLException e) {
                                return e;
                            }
                        });
                        Await.pause(500);
                        long start = System.nanoTime();
                        sleeper.cancel();
                        SQLException cancelled = outcome.get(15, TimeUnit.SECONDS);
                        assertTrue(cancelled != null, "the sleeping query was cancelled");
                        assertEquals("57014", cancelled.getSQLState());
                        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10));
                        try (var rs = sleeper.executeQuery("SELECT 1")) {
                            rs.next();
                            assertEquals(1, rs.getInt(1));
                        }
                    }
                }
                running.set(false);
                for (Future<?> f : busy) {
                    f.get(30, TimeUnit.SECONDS); // any SQLException of a bystander fails the test here
                }
                assertTrue(background.get() > 100, "the other clients kept working: " + background.get());
            } finally {
                running.set(false);
                threads.shutdownNow();
            }
        }
    }
}
