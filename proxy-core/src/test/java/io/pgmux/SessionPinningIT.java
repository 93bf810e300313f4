package io.pgmux;

import static io.pgmux.Sql.execute;
import static io.pgmux.Sql.queryString;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
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

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        return "auth.users { " + user(USER, PASSWORD) + " }\n"
                + "pool { size = 1, query-wait-timeout = 20s }\n"
                + "databases { " + database(DB, pg, "") + " }";
    });

    private static Connection connect(String... settings) throws SQLException {
        return pgmux.proxy().connect(DB, USER, PASSWORD, settings);
    }

    private static int leased() {
        return pgmux.proxy().pool(DB, USER).counts().leased();
    }

    private static void awaitUnpinned() {
        Await.until("the server to go back to the pool", Duration.ofSeconds(10), () -> leased() == 0);
    }

    @Test
    void reportedSettingsFollowTheirClientOnOneSharedServer() throws SQLException {
        // Pool size 1: both clients take turns on the same server connection.
        try (Connection a = connect();
                Connection b = connect()) {
            execute(a, "SET application_name = 'client-a'");
            execute(a, "SET TimeZone = 'Asia/Tokyo'");
            execute(b, "SET TimeZone = 'America/Lima'");
            for (int i = 0; i < 5; i++) {
                assertEquals("client-a", queryString(a, "SHOW application_name"));
                assertEquals("Asia/Tokyo", queryString(a, "SHOW TimeZone"));
                assertEquals("pgmux-it", queryString(b, "SHOW application_name"));
                assertEquals("America/Lima", queryString(b, "SHOW TimeZone"));
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
                assertEquals(
                        "it_schema,public", queryString(a, "SHOW search_path").replace(" ", ""));
                assertEquals("4321ms", queryString(a, "SHOW statement_timeout"));
                assertEquals("0", queryString(b, "SHOW statement_timeout"));
                assertEquals("\"$user\", public", queryString(b, "SHOW search_path"));
            }
        }
        awaitUnpinned();
    }

    @Test
    void unreportedSetPinsUntilReset() throws SQLException {
        try (Connection a = connect();
                Connection b = connect("socketTimeout=5")) {
            execute(a, "SET statement_timeout = 1234");
            assertEquals(1, leased(), "a client with statement_timeout set keeps its server");
            assertEquals("1234ms", queryString(a, "SHOW statement_timeout"));
            execute(a, "RESET statement_timeout");
            awaitUnpinned();
            assertEquals("0", queryString(b, "SHOW statement_timeout"), "nothing leaked to the next client");
        }
    }

    /** The simple protocol: the first look at a Query's wire bytes must find SET where a statement starts. */
    @Test
    void unreportedSetInASimpleQueryPinsAndUpdateSetDoesNot() throws SQLException {
        try (Connection a = connect("preferQueryMode=simple");
                Connection b = connect("preferQueryMode=simple", "socketTimeout=5")) {
            execute(a, "CREATE TEMP TABLE IF NOT EXISTS t_simple (v int)");
            execute(a, "DISCARD TEMP");
            awaitUnpinned();
            execute(a, "SELECT 1; SET statement_timeout = 2345");
            assertEquals(1, leased(), "SET as the second statement of a Query pins");
            assertEquals("2345ms", queryString(a, "SHOW statement_timeout"));
            execute(a, "RESET statement_timeout");
            awaitUnpinned();
            assertEquals("0", queryString(b, "SHOW statement_timeout"), "nothing leaked to the next client");
            execute(b, "CREATE TABLE IF NOT EXISTS t_update_set (v int)");
            execute(b, "UPDATE t_update_set SET v = 1");
            awaitUnpinned();
        }
    }

    @Test
    void listenPinsAndNotificationsArriveUntilUnlisten() throws Exception {
        try (Connection a = connect();
                Connection notifier = TestPostgres.shared().connect(DB)) {
            execute(a, "LISTEN it_channel");
            assertEquals(1, leased());
            execute(notifier, "NOTIFY it_channel, 'hello'");
            PGNotification[] got = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((got == null || got.length == 0) && System.nanoTime() < deadline) {
                execute(a, "SELECT 1");
                got = a.unwrap(PGConnection.class).getNotifications(200);
            }
            assertNotNull(got);
            assertEquals("hello", got[0].getParameter());
            execute(a, "UNLISTEN it_channel");
            awaitUnpinned();
            // Every pin is visible in the metrics, counted by reason.
            String scrape = pgmux.proxy().server().metrics().scrape();
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
            execute(a, "SELECT pg_advisory_lock(42)");
            assertEquals(1, leased());
            execute(a, "SELECT pg_advisory_unlock(42)");
            awaitUnpinned();
        }
    }

    @Test
    void temporaryTablePinsUntilDropped() throws SQLException {
        try (Connection a = connect()) {
            execute(a, "CREATE TEMP TABLE it_tmp (a int)");
            execute(a, "INSERT INTO it_tmp VALUES (1)");
            assertEquals("1", queryString(a, "SELECT count(*) FROM it_tmp"));
            assertEquals(1, leased());
            execute(a, "DROP TABLE it_tmp");
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
            execute(a, "SET work_mem = '8MB'");
            execute(a, "LISTEN it_other");
            assertEquals(1, leased());
            execute(a, "DISCARD ALL");
            awaitUnpinned();
            assertEquals("4MB", queryString(a, "SHOW work_mem"));
        }
    }

    @Test
    void pinnedClientThatLeavesHandsOnACleanServer() throws SQLException {
        String pid;
        try (Connection a = connect()) {
            execute(a, "SET work_mem = '9MB'");
            execute(a, "CREATE TEMP TABLE it_left_behind (a int)");
            pid = queryString(a, "SELECT pg_backend_pid()");
        }
        awaitUnpinned();
        try (Connection b = connect()) {
            assertEquals(pid, queryString(b, "SELECT pg_backend_pid()"), "the server was reset and reused, not closed");
            assertEquals("4MB", queryString(b, "SHOW work_mem"));
            assertEquals("0", queryString(b, "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()"));
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
                pid = queryString(a, "SELECT pg_backend_pid()");
                execute(a, "SET work_mem = '7MB'");
                execute(a, "CREATE TEMP TABLE it_session_tmp (a int)");
                execute(a, "LISTEN it_session_channel");
                execute(notifier, "NOTIFY it_session_channel, 'hi'");
                PGNotification[] got = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while ((got == null || got.length == 0) && System.nanoTime() < deadline) {
                    execute(a, "SELECT 1");
                    got = a.unwrap(PGConnection.class).getNotifications(200);
                }
                assertNotNull(got);
                for (int i = 0; i < 5; i++) {
                    assertEquals(pid, queryString(a, "SELECT pg_backend_pid()"));
                    assertEquals("7MB", queryString(a, "SHOW work_mem"));
                }
            }
            session.awaitAllReleased();
            try (Connection b = session.connect(DB, USER, PASSWORD)) {
                assertEquals(
                        pid,
                        queryString(b, "SELECT pg_backend_pid()"),
                        "server-reset-query ran and the server was reused");
                assertEquals("4MB", queryString(b, "SHOW work_mem"));
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
            assertEquals("1", queryString(a, "SELECT 1"));
            SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> {
                execute(a, "BEGIN");
                execute(a, "SELECT 1");
            });
            assertEquals("0A000", refused.getSQLState());
            org.junit.jupiter.api.Assertions.assertTrue(refused.getMessage().contains("statement pooling mode"));
            assertEquals("2", queryString(a, "SELECT 2"));
            assertEquals("f", queryString(a, "SELECT pg_current_xact_id_if_assigned() IS NOT NULL"));
            statement.awaitAllReleased();
        }
    }

    @Test
    void holdCursorPinsUntilClosed() throws SQLException {
        try (Connection a = connect()) {
            execute(a, "DECLARE it_hold CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 10) g");
            assertEquals(1, leased(), "a WITH HOLD cursor outlives its transaction: the client keeps its server");
            assertEquals("1", queryString(a, "FETCH NEXT FROM it_hold"));
            assertEquals("2", queryString(a, "FETCH NEXT FROM it_hold"));
            execute(a, "CLOSE it_hold");
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
            execute(a, "SET ROLE it_pinning_other");
            assertEquals(1, leased());
            assertEquals("it_pinning_other", queryString(a, "SELECT current_user"));
            execute(a, "RESET ROLE");
            awaitUnpinned();
            assertEquals(USER, queryString(b, "SELECT current_user"), "the role never reached another client");
        }
    }

    @Test
    void sqlPrepareAndExecutePinUntilDeallocated() throws SQLException {
        try (Connection a = connect()) {
            execute(a, "PREPARE it_q(int) AS SELECT $1 * 3");
            assertEquals(1, leased());
            assertEquals("21", queryString(a, "EXECUTE it_q(7)"));
            execute(a, "DEALLOCATE it_q");
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
            execute(a, "SET SESSION AUTHORIZATION " + USER);
            assertEquals(USER, queryString(a, "SELECT session_user"));
            assertEquals(1, admin.pool(DB, superUser).counts().leased(), "the client keeps its server");
            execute(a, "RESET SESSION AUTHORIZATION");
            Await.until(
                    "the server to go back to the pool",
                    Duration.ofSeconds(10),
                    () -> admin.pool(DB, superUser).counts().leased() == 0);
            assertEquals(superUser, queryString(b, "SELECT session_user"), "nobody else ever ran as " + USER);
        }
    }
}
