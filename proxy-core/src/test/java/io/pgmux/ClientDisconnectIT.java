package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.pool.Pool;
import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client that vanishes (socket closed or reset, no Terminate) in the middle of a transaction, of a batch or of a
 * wait: nothing it did is committed, and the server it held never reaches another client in that state.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClientDisconnectIT {
    private static final String USER = "it_gone";
    private static final String DB = "it_gone";
    private static final String PASSWORD = "gone-pw";
    private static final int POOL_SIZE = 1;

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        // Cleartext logins, so that WireClient can log in; one server, so that the next client gets the same pool slot.
        return "auth.type = plain\n"
                + "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n"
                + database(DB, pg, "pool { size = " + POOL_SIZE + ", query-wait-timeout = 15s }")
                + "}";
    });

    private final TestPostgres pg = pgmux.postgres();

    @BeforeEach
    void emptyTable() throws SQLException {
        try (Connection c = pg.connect(DB, USER, PASSWORD);
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS marks (n int)");
            st.execute("TRUNCATE marks");
        }
    }

    @Test
    void clientKilledInsideATransactionCommitsNothingAndTheNextClientGetsACleanServer() throws Exception {
        Connection killed = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
        killed.setAutoCommit(false);
        try (Statement st = killed.createStatement()) {
            assertEquals(1, st.executeUpdate("INSERT INTO marks VALUES (1)"));
        }
        // Closes the socket at once, without Terminate: the way a crashed client goes.
        killed.abort(Runnable::run);

        assertNextClientGetsACleanServer();
        assertNothingCommitted();
    }

    @Test
    void clientResetInTheMiddleOfAnExtendedBatchCommitsNothing() throws Exception {
        try (WireClient raw = WireClient.login(pgmux.port(), DB, USER, PASSWORD)) {
            raw.query("BEGIN; INSERT INTO marks VALUES (2)");
            List<WireClient.Message> reply = raw.readUntilReady();
            assertEquals('T', reply.get(reply.size() - 1).transactionStatus());
            // Parse/Bind/Execute/Flush with no Sync: pgmux must keep the server attached, and now the client dies.
            raw.executeWithoutSync("INSERT INTO marks VALUES (3)");
            raw.reset();
        }

        assertNextClientGetsACleanServer();
        assertNothingCommitted();
    }

    @Test
    void clientGoneWhileWaitingForAServerLeavesNoWaiterBehind() throws Exception {
        Pool pool;
        // pgjdbc runs SETs right after login, which need a server: both clients log in before the only one is taken.
        try (Connection holder = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0")) {
            Connection waiting = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
            holder.setAutoCommit(false);
            try (Statement st = holder.createStatement()) {
                st.execute("INSERT INTO marks VALUES (4)");
            }
            pool = pgmux.proxy().pool(DB, USER);
            CompletableFuture<Void> query = CompletableFuture.runAsync(() -> {
                try (Statement st = waiting.createStatement()) {
                    st.execute("SELECT 1");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Await.until(
                    "the second client to wait for the only server",
                    Duration.ofSeconds(10),
                    () -> pool.counts().waiting() == 1);
            waiting.abort(Runnable::run);
            ExecutionException e = assertThrows(ExecutionException.class, () -> query.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IllegalStateException, "the aborted client's query failed: " + e);
            Await.until(
                    "pgmux to forget the waiter that went away",
                    Duration.ofSeconds(10),
                    () -> pool.counts().waiting() == 0);
            holder.commit();
        }
        assertNextClientGetsACleanServer();
        try (Connection c = pg.connect(DB);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM marks WHERE n = 4")) {
            rs.next();
            assertEquals(1, rs.getInt(1), "the holder's committed row");
        }
    }

    /** The next client is not inside anyone's transaction, and the pool kept to its size. */
    private void assertNextClientGetsACleanServer() throws SQLException {
        // Simple protocol: with one Query message, now() = statement_timestamp() exactly when the statement began
        // the transaction (Parse, Bind and Execute would each move statement_timestamp()).
        try (Connection c = pgmux.connect(DB, USER, PASSWORD, "preferQueryMode=simple");
                Statement st = c.createStatement()) {
            for (int i = 0; i < 3; i++) {
                try (ResultSet rs = st.executeQuery("SELECT pg_current_xact_id_if_assigned() IS NULL,"
                        + " now() = statement_timestamp(), (SELECT count(*) FROM marks WHERE n <> 4)")) {
                    rs.next();
                    assertTrue(
                            rs.getBoolean(1), "no transaction id assigned: not inside the dead client's transaction");
                    assertTrue(rs.getBoolean(2), "the transaction started with this statement");
                    assertEquals(0, rs.getInt(3), "the dead client's rows are invisible");
                }
            }
        }
        Pool.Counts counts = pgmux.proxy().pool(DB, USER).counts();
        assertTrue(counts.open() + counts.connecting() <= POOL_SIZE, "pool within its size: " + counts);
        Await.until(
                "PostgreSQL to see at most " + POOL_SIZE + " server",
                Duration.ofSeconds(10),
                () -> pg.countConnections(USER) <= POOL_SIZE);
    }

    private void assertNothingCommitted() throws SQLException {
        try (Connection c = pg.connect(DB);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM marks")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "rows of the dead client's transaction");
        }
    }
}
