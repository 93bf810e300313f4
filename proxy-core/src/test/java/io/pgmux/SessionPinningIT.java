package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Session state in transaction mode: settings a client SETs follow it to every server it lands on and
 * never reach another client; state that cannot move (unreported settings, LISTEN, advisory locks,
 * temporary tables) keeps the client on its server until the state is gone. Pinned means: the pool
 * leases a server to a client that sits idle.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SessionPinningIT {
    private static final String DB = "it_pinning";
    private static final String USER = "it_pinning_user";
    private static final String PASSWORD = "it-pinning-pw";
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        proxy = TestProxy.start("auth.users { " + user(USER, PASSWORD) + " }\n"
                + "pool { size = 1, query-wait-timeout = 20s }\n"
                + "databases { " + database(DB, pg, "") + " }");
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Connection connect(String... settings) throws SQLException {
        return proxy.connect(DB, USER, PASSWORD, settings);
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static int leased() {
        return proxy.pool(DB, USER).counts().leased();
    }

    private static void awaitUnpinned() {
        Await.until("the server to go back to the pool", Duration.ofSeconds(10), () -> leased() == 0);
    }

    @Test
    void reportedSettingsFollowTheirClientOnOneSharedServer() throws SQLException {
        // Pool size 1: both clients take turns on the same server connection.
        try (Connection a = connect();
                Connection b = connect()) {
            exec(a, "SET application_name = 'client-a'");
            exec(a, "SET TimeZone = 'Asia/Tokyo'");
            exec(b, "SET TimeZone = 'America/Lima'");
            for (int i = 0; i < 5; i++) {
                assertEquals("client-a", one(a, "SHOW application_name"));
                assertEquals("Asia/Tokyo", one(a, "SHOW TimeZone"));
                assertEquals("pgmux-it", one(b, "SHOW application_name"));
                assertEquals("America/Lima", one(b, "SHOW TimeZone"));
            }
        }
        // Reported settings do not pin: the server goes back to the pool.
        awaitUnpinned();
    }

    @Test
    void startupOptionsBecomePartOfTheSession() throws SQLException {
        try (Connection a = connect("options=-c search_path=it_schema,public -c statement_timeout=4321");
                Connection b = connect()) {
            for (int i = 0; i < 3; i++) {
                assertEquals("it_schema,public", one(a, "SHOW search_path").replace(" ", ""));
                assertEquals("4321ms", one(a, "SHOW statement_timeout"));
                assertEquals("0", one(b, "SHOW statement_timeout"));
                assertEquals("\"$user\", public", one(b, "SHOW search_path"));
            }
        }
        awaitUnpinned();
    }

    @Test
    void unreportedSetPinsUntilReset() throws SQLException {
        try (Connection a = connect();
                Connection b = connect("socketTimeout=5")) {
            exec(a, "SET statement_timeout = 1234");
            assertEquals(1, leased(), "a client with statement_timeout set keeps its server");
            assertEquals("1234ms", one(a, "SHOW statement_timeout"));
            exec(a, "RESET statement_timeout");
            awaitUnpinned();
            assertEquals("0", one(b, "SHOW statement_timeout"), "nothing leaked to the next client");
        }
    }

    /** The simple protocol: the first look at a Query's wire bytes must find SET where a statement starts. */
    @Test
    void unreportedSetInASimpleQueryPinsAndUpdateSetDoesNot() throws SQLException {
        try (Connection a = connect("preferQueryMode=simple");
                Connection b = connect("preferQueryMode=simple", "socketTimeout=5")) {
            exec(a, "CREATE TEMP TABLE IF NOT EXISTS t_simple (v int)");
            exec(a, "DISCARD TEMP");
            awaitUnpinned();
            exec(a, "SELECT 1; SET statement_timeout = 2345");
            assertEquals(1, leased(), "SET as the second statement of a Query pins");
            assertEquals("2345ms", one(a, "SHOW statement_timeout"));
            exec(a, "RESET statement_timeout");
            awaitUnpinned();
            assertEquals("0", one(b, "SHOW statement_timeout"), "nothing leaked to the next client");
            exec(b, "CREATE TABLE IF NOT EXISTS t_update_set (v int)");
            exec(b, "UPDATE t_update_set SET v = 1");
            awaitUnpinned();
        }
    }

    @Test
    void listenPinsAndNotificationsArriveUntilUnlisten() throws Exception {
        try (Connection a = connect();
                Connection notifier = TestPostgres.shared().connect(DB)) {
            exec(a, "LISTEN it_channel");
            assertEquals(1, leased());
            exec(notifier, "NOTIFY it_channel, 'hello'");
            PGNotification[] got = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((got == null || got.length == 0) && System.nanoTime() < deadline) {
                exec(a, "SELECT 1");
                got = a.unwrap(PGConnection.class).getNotifications(200);
            }
            assertNotNull(got);
            assertEquals("hello", got[0].getParameter());
            exec(a, "UNLISTEN it_channel");
            awaitUnpinned();
            // Every pin is visible in the metrics, counted by reason.
            String scrape = proxy.server().metrics().scrape();
            assertTrue(
                    scrape.lines()
                            .anyMatch(l -> l.startsWith("pgmux_client_pins_total")
                                    && l.contains("reason=\"listen\"")
                                    && l.contains("database=\"" + DB + "\"")
                                    && !l.endsWith(" 0.0")),
                    "pgmux_client_pins_total{reason=listen} counted");
        }
    }

    @Test
    void advisoryLockPinsUntilUnlocked() throws SQLException {
        try (Connection a = connect()) {
            exec(a, "SELECT pg_advisory_lock(42)");
            assertEquals(1, leased());
            exec(a, "SELECT pg_advisory_unlock(42)");
            awaitUnpinned();
        }
    }

    @Test
    void temporaryTablePinsUntilDropped() throws SQLException {
        try (Connection a = connect()) {
            exec(a, "CREATE TEMP TABLE it_tmp (a int)");
            exec(a, "INSERT INTO it_tmp VALUES (1)");
            assertEquals("1", one(a, "SELECT count(*) FROM it_tmp"));
            assertEquals(1, leased());
            exec(a, "DROP TABLE it_tmp");
            awaitUnpinned();
        }
    }

    @Test
    void namedPreparedStatementsDoNotPin() throws SQLException {
        try (Connection a = connect("prepareThreshold=1");
                PreparedStatement ps = a.prepareStatement("SELECT ?::int + 1")) {
            for (int i = 0; i < 20; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(i + 1, rs.getInt(1));
                }
                awaitUnpinned();
            }
        }
    }

    @Test
    void discardAllEndsEveryPin() throws SQLException {
        try (Connection a = connect()) {
            exec(a, "SET work_mem = '8MB'");
            exec(a, "LISTEN it_other");
            assertEquals(1, leased());
            exec(a, "DISCARD ALL");
            awaitUnpinned();
            assertEquals("4MB", one(a, "SHOW work_mem"));
        }
    }

    @Test
    void pinnedClientThatLeavesHandsOnACleanServer() throws SQLException {
        String pid;
        try (Connection a = connect()) {
            exec(a, "SET work_mem = '9MB'");
            exec(a, "CREATE TEMP TABLE it_left_behind (a int)");
            pid = one(a, "SELECT pg_backend_pid()");
        }
        awaitUnpinned();
        try (Connection b = connect()) {
            assertEquals(pid, one(b, "SELECT pg_backend_pid()"), "the server was reset and reused, not closed");
            assertEquals("4MB", one(b, "SHOW work_mem"));
            assertEquals("0", one(b, "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()"));
        }
    }

    @Test
    void sessionModeKeepsOneServerPerClientAndResetsItAfterwards() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        try (TestProxy session = TestProxy.start("auth.users { " + user(USER, PASSWORD) + " }\n"
                + "pool { mode = session, size = 2 }\n"
                + "databases { " + database(DB, pg, "") + " }")) {
            String pid;
            try (Connection a = session.connect(DB, USER, PASSWORD);
                    Connection notifier = pg.connect(DB)) {
                pid = one(a, "SELECT pg_backend_pid()");
                exec(a, "SET work_mem = '7MB'");
                exec(a, "CREATE TEMP TABLE it_session_tmp (a int)");
                exec(a, "LISTEN it_session_channel");
                exec(notifier, "NOTIFY it_session_channel, 'hi'");
                PGNotification[] got = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while ((got == null || got.length == 0) && System.nanoTime() < deadline) {
                    exec(a, "SELECT 1");
                    got = a.unwrap(PGConnection.class).getNotifications(200);
                }
                assertNotNull(got);
                for (int i = 0; i < 5; i++) {
                    assertEquals(pid, one(a, "SELECT pg_backend_pid()"));
                    assertEquals("7MB", one(a, "SHOW work_mem"));
                }
            }
            session.awaitAllReleased();
            try (Connection b = session.connect(DB, USER, PASSWORD)) {
                assertEquals(
                        pid, one(b, "SELECT pg_backend_pid()"), "server-reset-query ran and the server was reused");
                assertEquals("4MB", one(b, "SHOW work_mem"));
            }
        }
    }

    @Test
    void statementModeRunsAutocommitStatementsAndRefusesTransactionBlocks() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        try (TestProxy statement = TestProxy.start("auth.users { " + user(USER, PASSWORD) + " }\n"
                        + "pool { mode = statement, size = 1 }\n"
                        + "databases { " + database(DB, pg, "") + " }");
                Connection a = statement.connect(DB, USER, PASSWORD)) {
            assertEquals("1", one(a, "SELECT 1"));
            SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> {
                exec(a, "BEGIN");
                exec(a, "SELECT 1");
            });
            assertEquals("0A000", refused.getSQLState());
            org.junit.jupiter.api.Assertions.assertTrue(refused.getMessage().contains("statement pooling mode"));
            assertEquals("2", one(a, "SELECT 2"));
            assertEquals("f", one(a, "SELECT pg_current_xact_id_if_assigned() IS NOT NULL"));
            statement.awaitAllReleased();
        }
    }

    @Test
    void holdCursorPinsUntilClosed() throws SQLException {
        try (Connection a = connect()) {
            exec(a, "DECLARE it_hold CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 10) g");
            assertEquals(1, leased(), "a WITH HOLD cursor outlives its transaction: the client keeps its server");
            assertEquals("1", one(a, "FETCH NEXT FROM it_hold"));
            assertEquals("2", one(a, "FETCH NEXT FROM it_hold"));
            exec(a, "CLOSE it_hold");
            awaitUnpinned();
        }
    }

    @Test
    void setRoleAndSessionAuthorizationPinUntilReset() throws SQLException {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser("it_pinning_other", "unused-pw");
        try (Connection direct = pg.connect(DB);
                Statement s = direct.createStatement()) {
            s.execute("GRANT it_pinning_other TO " + USER);
        }
        try (Connection a = connect();
                Connection b = connect("socketTimeout=5")) {
            exec(a, "SET ROLE it_pinning_other");
            assertEquals(1, leased());
            assertEquals("it_pinning_other", one(a, "SELECT current_user"));
            exec(a, "RESET ROLE");
            awaitUnpinned();
            assertEquals(USER, one(b, "SELECT current_user"), "the role never reached another client");
        }
    }

    @Test
    void sqlPrepareAndExecutePinUntilDeallocated() throws SQLException {
        try (Connection a = connect()) {
            exec(a, "PREPARE it_q(int) AS SELECT $1 * 3");
            assertEquals(1, leased());
            assertEquals("21", one(a, "EXECUTE it_q(7)"));
            exec(a, "DEALLOCATE it_q");
            awaitUnpinned();
        }
    }

    @Test
    void sessionAuthorizationPinsUntilReset() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        String superUser = pg.superUser();
        try (TestProxy admin = TestProxy.start("auth.users { " + user(superUser, pg.superPassword()) + " }\n"
                        + "pool { size = 1, query-wait-timeout = 20s }\n"
                        + "databases { " + database(DB, pg, "") + " }");
                Connection a = admin.connect(DB, superUser, pg.superPassword());
                Connection b = admin.connect(DB, superUser, pg.superPassword())) {
            exec(a, "SET SESSION AUTHORIZATION " + USER);
            assertEquals(USER, one(a, "SELECT session_user"));
            assertEquals(1, admin.pool(DB, superUser).counts().leased(), "the client keeps its server");
            exec(a, "RESET SESSION AUTHORIZATION");
            Await.until(
                    "the server to go back to the pool",
                    Duration.ofSeconds(10),
                    () -> admin.pool(DB, superUser).counts().leased() == 0);
            assertEquals(superUser, one(b, "SELECT session_user"), "nobody else ever ran as " + USER);
        }
    }
}
