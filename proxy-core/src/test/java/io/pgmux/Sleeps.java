package io.pgmux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgmux.testkit.TestPostgres;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Long-running queries to cancel: {@code pg_sleep} on a thread of its own, and a wait until PostgreSQL runs it. */
final class Sleeps {
    private Sleeps() {}

    /** Runs {@code pg_sleep(seconds)} on another thread; completes with its error, or null when it ran to its end. */
    static CompletableFuture<SQLException> sleepAsync(Statement st, String seconds) {
        // A thread of its own: the common pool may have a single thread on a small machine.
        CompletableFuture<SQLException> result = new CompletableFuture<>();
        Thread thread = new Thread(
                () -> {
                    try {
                        st.execute("SELECT pg_sleep(" + seconds + ")");
                        result.complete(null);
                    } catch (SQLException e) {
                        result.complete(e);
                    } catch (RuntimeException e) {
                        result.completeExceptionally(e);
                    }
                },
                "pg_sleep-" + seconds);
        thread.setDaemon(true);
        thread.start();
        return result;
    }

    /** Waits until {@code user} runs {@code query} on {@code pg}, so that a cancel does not arrive before it. */
    static void awaitRunning(TestPostgres pg, String database, String user, String query) {
        Await.until(
                "PostgreSQL to run " + query,
                Duration.ofSeconds(20),
                () -> PgActivity.isRunning(pg, database, user, query));
    }

    /** Runs {@code pg_sleep(60)} on {@code st}, cancels it once PostgreSQL runs it, and expects 57014. */
    static void assertCancelled(TestPostgres pg, String database, String user, Statement st) throws Exception {
        CompletableFuture<SQLException> sleeping = sleepAsync(st, "60");
        awaitRunning(pg, database, user, "pg_sleep(60)");
        st.cancel();
        SQLException e = sleeping.get(30, TimeUnit.SECONDS);
        assertEquals("57014", e == null ? null : e.getSQLState(), String.valueOf(e));
    }
}
