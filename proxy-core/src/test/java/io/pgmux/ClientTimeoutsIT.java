package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.quote;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The timeouts of a client's own session: client-idle-timeout, idle-transaction-timeout and query-timeout each fire
 * with an error that names them, and leave the pool and PostgreSQL clean.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClientTimeoutsIT {
    private static final String USER = "it_tmo";
    private static final String DB = "it_tmo";
    private static final String PASSWORD = "tmo-pw";
    private static final String IDLE_DB = "it_tmo_idle";
    private static final String SESSION_IDLE_DB = "it_tmo_session_idle";
    private static final String IDLE_TX_DB = "it_tmo_idle_tx";
    private static final String QUERY_DB = "it_tmo_query";
    /** query-timeout through a relay that can stall: PostgreSQL then never answers the query nor sees the cancel. */
    private static final String STALLED_QUERY_DB = "it_tmo_stalled_query";

    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.withRelay((pg, relay) -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        String target = "dbname = " + quote(DB) + ", pool { ";
        return "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n"
                + database(IDLE_DB, pg, target + "client-idle-timeout = 1s }")
                + database(SESSION_IDLE_DB, pg, target + "mode = session, client-idle-timeout = 1s }")
                + database(IDLE_TX_DB, pg, target + "size = 1, idle-transaction-timeout = 1s }")
                + database(QUERY_DB, pg, target + "size = 1, query-timeout = 1s }")
                + relay.database(STALLED_QUERY_DB, target + "size = 1, query-timeout = 1s }")
                + "}";
    });

    private final TestPostgres pg = pgmux.postgres();

    @BeforeAll
    static void createTable() throws SQLException {
        try (Connection c = pgmux.postgres().connect(DB, USER, PASSWORD);
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS tmo (n int)");
        }
    }

    // ---- client-idle-timeout
    // -----------------------------------------------------------------------------------------

    @Test
    void clientIdleBetweenTransactionsIsClosedNamingClientIdleTimeout() throws Exception {
        try (Connection client = pgmux.connect(IDLE_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = client.createStatement()) {
            assertEquals(1, queryInt(st, "SELECT 1"));
            Await.pause(2_500);

            SQLException e = assertThrows(SQLException.class, () -> queryInt(st, "SELECT 2"));
            assertEquals("08P01", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("client_idle_timeout"), e.getMessage());
            assertTrue(e.getMessage().contains("client-idle-timeout = 1s"), e.getMessage());
        }
        pgmux.proxy().awaitAllReleased();
    }

    /** The clock starts again at each transaction's end: a client busy now and then is never closed. */
    @Test
    void clientBusyMoreOftenThanClientIdleTimeoutStaysConnected() throws Exception {
        try (Connection client = pgmux.connect(IDLE_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = client.createStatement()) {
            for (int i = 0; i < 8; i++) {
                assertEquals(i, queryInt(st, "SELECT " + i));
                Await.pause(400);
            }
        }
    }

    /** Session mode keeps the server attached; an idle client is closed all the same and its server reset and reused. */
    @Test
    void clientIdleTimeoutAlsoClosesSessionModeClients() throws Exception {
        int backend;
        try (Connection client = pgmux.connect(SESSION_IDLE_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = client.createStatement()) {
            backend = queryInt(st, "SELECT pg_backend_pid()");
            Await.pause(2_500);

            SQLException e = assertThrows(SQLException.class, () -> queryInt(st, "SELECT 2"));
            assertTrue(e.getMessage().contains("client_idle_timeout"), e.getMessage());
        }
        pgmux.proxy().awaitAllReleased();
        try (Connection next = pgmux.connect(SESSION_IDLE_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = next.createStatement()) {
            assertEquals(backend, queryInt(st, "SELECT pg_backend_pid()"), "the server went back to the pool");
        }
    }

    // ---- idle-transaction-timeout
    // ------------------------------------------------------------------------------------

    @Test
    void clientIdleInTransactionIsClosedAndItsServerDoesNotKeepTheTransaction() throws Exception {
        int backend;
        try (Connection client = pgmux.connect(IDLE_TX_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = client.createStatement()) {
            client.setAutoCommit(false);
            st.execute("INSERT INTO tmo VALUES (4242)");
            backend = queryInt(st, "SELECT pg_backend_pid()");
            assertEquals(
                    "idle in transaction",
                    Await.until(
                            "the backend to sit idle in its transaction",
                            Duration.ofSeconds(10),
                            () -> backendState(backend),
                            "idle in transaction"::equals));
            Await.pause(2_500);

            SQLException e = assertThrows(SQLException.class, () -> queryInt(st, "SELECT 2"));
            assertEquals("25P03", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("idle_transaction_timeout"), e.getMessage());
            assertTrue(e.getMessage().contains("idle-transaction-timeout = 1s"), e.getMessage());
        }
        // The server was closed, not handed on mid-transaction: its backend is gone and the insert rolled back.
        Await.until("backend " + backend + " to end", Duration.ofSeconds(10), () -> backendState(backend) == null);
        pgmux.proxy().awaitAllReleased();
        try (Connection next = pgmux.connect(IDLE_TX_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = next.createStatement()) {
            assertEquals(0, queryInt(st, "SELECT count(*)::int FROM tmo WHERE n = 4242"));
            assertTrue(queryInt(st, "SELECT pg_backend_pid()") != backend, "a fresh server for the pool of size 1");
        }
    }

    @Test
    void idleTransactionTimeoutDoesNotCloseClientsIdleBetweenTransactions() throws Exception {
        try (Connection client = pgmux.connect(IDLE_TX_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = client.createStatement()) {
            assertEquals(1, queryInt(st, "SELECT 1"));
            Await.pause(2_000);
            assertEquals(2, queryInt(st, "SELECT 2"));
        }
    }

    // ---- query-timeout
    // -----------------------------------------------------------------------------------------------

    @Test
    void queryRunningLongerThanQueryTimeoutIsCanceledAndTheClientCarriesOn() throws Exception {
        try (Connection client = pgmux.connect(QUERY_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = client.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.execute("SELECT pg_sleep(30)"));
            assertEquals("57014", e.getSQLState(), e.toString());
            assertTrue(
                    e.getMessage().contains("canceling statement due to query_timeout (query-timeout = 1s)"),
                    e.getMessage());

            assertEquals(3, queryInt(st, "SELECT 3"), "the same client, connected, after the cancel");
        }
        pgmux.proxy().awaitAllReleased();
    }

    /** As in PostgreSQL, the canceled statement aborts the transaction around it; ROLLBACK ends it. */
    @Test
    void queryTimeoutInsideATransactionAbortsItAsPostgresqlDoes() throws Exception {
        try (Connection client = pgmux.connect(QUERY_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = client.createStatement()) {
            client.setAutoCommit(false);
            st.execute("INSERT INTO tmo VALUES (4343)");
            SQLException e = assertThrows(SQLException.class, () -> st.execute("SELECT pg_sleep(30)"));
            assertEquals("57014", e.getSQLState(), e.toString());
            SQLException aborted = assertThrows(SQLException.class, () -> queryInt(st, "SELECT 1"));
            assertEquals("25P02", aborted.getSQLState(), aborted.toString());
            client.rollback();
            assertEquals(0, queryInt(st, "SELECT count(*)::int FROM tmo WHERE n = 4343"));
            client.commit();
        }
        pgmux.proxy().awaitAllReleased();
    }

    /** The clock runs per request, not per transaction: several short statements add up to more than the timeout. */
    @Test
    void queryTimeoutCountsEachRequestOnItsOwn() throws Exception {
        try (Connection client = pgmux.connect(QUERY_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = client.createStatement()) {
            client.setAutoCommit(false);
            for (int i = 0; i < 4; i++) {
                st.execute("SELECT pg_sleep(0.4)");
            }
            client.commit();
        }
    }

    /**
     * When the cancel cannot take effect (PostgreSQL unreachable behind a stalled network), the server is closed after
     * the grace period and the client gets 57014 saying so, not a hang; its next query gets a fresh server.
     */
    @Test
    void queryTimeoutCancelThatTakesNoEffectClosesTheServerAfterTheGracePeriod() throws Exception {
        try (Connection client = pgmux.connect(STALLED_QUERY_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = client.createStatement()) {
            assertEquals(1, queryInt(st, "SELECT 1"));
            pgmux.relay().stall();

            SQLException e = assertThrows(SQLException.class, () -> queryInt(st, "SELECT 2"));
            assertEquals("57014", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("query_timeout (query-timeout = 1s)"), e.getMessage());
            assertTrue(e.getMessage().contains("did not stop within 1s"), e.getMessage());

            pgmux.relay().pass();
            assertEquals(3, queryInt(st, "SELECT 3"), "the same client, on a fresh server");
        }
        pgmux.proxy().awaitAllReleased();
    }

    private String backendState(int pid) {
        try (Connection c = pg.connect(DB);
                PreparedStatement ps = c.prepareStatement("SELECT state FROM pg_stat_activity WHERE pid = ?")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
