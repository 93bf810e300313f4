package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Graceful shutdown (SIGTERM, SIGINT): the listener closes at once, idle clients go with 57P01,
 * a transaction in flight may finish within shutdown-timeout, then its client goes too; a
 * transaction still open at the timeout is cut off.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DrainIT {
    private static final String DB = "it_drain";
    private static final String USER = "it_drain_user";
    private static final String PASSWORD = "it-drain-pw";

    /** A pgmux serving the test's database and user, both made first. */
    private static TestProxy start(TestPostgres pg) {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        return TestProxy.start(
                "auth.users { " + user(USER, PASSWORD) + " }\n" + "databases { " + database(DB, pg, "") + " }");
    }

    @Test
    void runningTransactionFinishesWhileIdleClientsGoAt57P01() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        TestProxy proxy = start(pg);
        try (Connection direct = pg.connect(DB);
                Statement ddl = direct.createStatement()) {
            ddl.execute("DROP TABLE IF EXISTS drained");
            ddl.execute("CREATE TABLE drained (n int)");
            ddl.execute("GRANT ALL ON drained TO " + USER);
        }
        PgmuxServer server = proxy.server();
        try (Connection inTransaction = proxy.connect(DB, USER, PASSWORD);
                Connection idle = proxy.connect(DB, USER, PASSWORD)) {
            inTransaction.setAutoCommit(false);
            try (Statement s = inTransaction.createStatement()) {
                s.execute("INSERT INTO drained VALUES (1)");
            }
            assertEquals(1, queryInt(idle, "SELECT 1"));

            long start = System.nanoTime();
            CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> server.drain(Duration.ofSeconds(20)));
            // The idle client is told at once.
            SQLException gone = Await.until(
                    "the idle client to be closed",
                    Duration.ofSeconds(5),
                    () -> {
                        try {
                            queryInt(idle, "SELECT 1");
                            return null;
                        } catch (SQLException e) {
                            return e;
                        }
                    },
                    e -> e != null);
            assertTrue(
                    "57P01".equals(gone.getSQLState()) || "08006".equals(gone.getSQLState()),
                    gone.getSQLState() + " " + gone.getMessage());
            // New clients are refused.
            assertThrows(
                    SQLException.class, () -> proxy.connect(DB, USER, PASSWORD).close());
            // The transaction in flight may finish.
            try (Statement s = inTransaction.createStatement()) {
                s.execute("INSERT INTO drained VALUES (2)");
            }
            inTransaction.commit();
            drained.get(15, TimeUnit.SECONDS);
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(15), "drain ended with the transaction");
        } finally {
            server.close();
        }
        try (Connection direct = pg.connect(DB)) {
            assertEquals(2, queryInt(direct, "SELECT count(*) FROM drained"), "the running transaction committed");
        }
    }

    @Test
    void transactionStillOpenAtShutdownTimeoutIsCutOff() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        TestProxy proxy = start(pg);
        PgmuxServer server = proxy.server();
        try (Connection stuck = proxy.connect(DB, USER, PASSWORD)) {
            stuck.setAutoCommit(false);
            queryInt(stuck, "SELECT 1");
            long start = System.nanoTime();
            server.drain(Duration.ofSeconds(1));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis >= 900 && millis < 10_000, "drain took " + millis + " ms for a 1 s timeout");
            assertThrows(SQLException.class, () -> queryInt(stuck, "SELECT 1"));
        } finally {
            server.close();
        }
        Await.until(
                "no server of the drained pgmux left", Duration.ofSeconds(10), () -> pg.countConnections(USER) == 0);
    }

    /**
     * SIGTERM while the console's SHUTDOWN drains: the second stop returns only once pgmux has stopped (servers got
     * Terminate), so that the process does not exit under the first.
     */
    @Test
    void aSecondStopWaitsUntilTheFirstHasStoppedPgmux() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        TestProxy proxy = start(pg);
        PgmuxServer server = proxy.server();
        try (Connection stuck = proxy.connect(DB, USER, PASSWORD)) {
            stuck.setAutoCommit(false);
            queryInt(stuck, "SELECT 1");
            CompletableFuture<Void> first = CompletableFuture.runAsync(() -> server.drain(Duration.ofSeconds(1)));
            Await.until("the listener to close", Duration.ofSeconds(5), () -> {
                try {
                    proxy.connect(DB, USER, PASSWORD).close();
                    return false;
                } catch (SQLException e) {
                    return true;
                }
            });

            server.drain(Duration.ofSeconds(30));
            assertTrue(server.stopped().isDone(), "the second drain returned before pgmux stopped");
            first.get(15, TimeUnit.SECONDS);
            server.close();
            assertTrue(server.stopped().isDone());
        } finally {
            server.close();
        }
        Await.until(
                "no server of the stopped pgmux left", Duration.ofSeconds(10), () -> pg.countConnections(USER) == 0);
    }
}
