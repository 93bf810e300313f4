package io.pgmux;

import static io.pgmux.Sql.backendPid;
import static io.pgmux.Sql.queryString;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.quote;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.auth.ClientAuthenticator;
import io.pgmux.pool.Pool;
import io.pgmux.pool.PoolKey;
import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code auth.query}: users that exist only in PostgreSQL log in through pgmux with their own passwords. pgmux runs the
 * query as {@code auth.query-user} (through a SECURITY DEFINER function, as PgBouncer's docs recommend, or straight on
 * pg_shadow as a superuser), checks the client against the secret it returns, and logs in to PostgreSQL as that user.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AuthQueryIT {
    private static final String DB = "it_aq";
    /** The query user: may run pgmux_lookup(), nothing else. */
    private static final String LOOKUP = "it_aq_lookup";
    /** PostgreSQL stores a SCRAM verifier; pgmux has no entry. */
    private static final String SCRAM_USER = "it_aq_scram";
    /** PostgreSQL stores an MD5 hash (and logs it in with md5); pgmux has no entry. */
    private static final String MD5_USER = "it_aq_md5";
    /** Its password changes during a test. */
    private static final String CHANGING_USER = "it_aq_change";
    /** In auth.users: served without the query. */
    private static final String STATIC_USER = "it_aq_static";

    private static final String ADMIN = "it_aq_admin";
    private static final String LOOKUP_QUERY = "SELECT uname, phash FROM public.pgmux_lookup($1)";

    private static TestPostgres pg;

    @BeforeAll
    static void createUsersOnlyInPostgres() throws SQLException {
        pg = TestPostgres.shared();
        pg.createDatabase(DB);
        pg.createUser(LOOKUP, password(LOOKUP));
        pg.createUser(SCRAM_USER, password(SCRAM_USER));
        pg.createMd5User(MD5_USER, password(MD5_USER));
        pg.createUser(CHANGING_USER, password(CHANGING_USER));
        pg.createUser(STATIC_USER, password(STATIC_USER));
        try (Connection c = pg.connect(DB);
                Statement st = c.createStatement()) {
            // As PgBouncer's documentation has it: only this function sees pg_shadow, and only the query user may
            // call it. A name that is no role yields one row of NULLs.
            st.execute("CREATE OR REPLACE FUNCTION public.pgmux_lookup(i_username text, OUT uname text,"
                    + " OUT phash text) RETURNS record AS $$ BEGIN SELECT usename, passwd FROM pg_catalog.pg_shadow"
                    + " WHERE usename = i_username INTO uname, phash; RETURN; END; $$"
                    + " LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog");
            st.execute("REVOKE ALL ON FUNCTION public.pgmux_lookup(text) FROM PUBLIC");
            st.execute("GRANT EXECUTE ON FUNCTION public.pgmux_lookup(text) TO " + LOOKUP);
        }
    }

    @Test
    void scramUserFoundByTheQueryLogsInAsItself() throws SQLException {
        try (TestProxy proxy = TestProxy.start(settings("scram-sha-256", LOOKUP_QUERY, password(LOOKUP)))) {
            assertLogsInAsItself(proxy, SCRAM_USER);
            // A second client while the first holds its server in a transaction: a second server login as the user,
            // with the ClientKey of a client's SCRAM login, as pgmux does not know the password.
            try (Connection first = proxy.connect(DB, SCRAM_USER, password(SCRAM_USER));
                    Connection second = proxy.connect(DB, SCRAM_USER, password(SCRAM_USER))) {
                first.setAutoCommit(false);
                second.setAutoCommit(false);
                int firstPid = backendPid(first);
                int secondPid = backendPid(second);
                assertTrue(firstPid != secondPid, "two transactions at once run on two servers");
                assertEquals(SCRAM_USER, backendUser(second));
                first.commit();
                second.commit();
            }
            assertRefused(proxy, SCRAM_USER, password(SCRAM_USER) + "-wrong");
        }
    }

    @Test
    void unknownUserIsRefusedLikeAWrongPassword() {
        try (TestProxy proxy = TestProxy.start(settings("scram-sha-256", LOOKUP_QUERY, password(LOOKUP)))) {
            assertRefused(proxy, "it_aq_nobody", "whatever");
            // No such database either: still 28P01, the user is unknown before the database matters.
            SQLException e =
                    assertThrows(SQLException.class, () -> proxy.connect("it_aq_nowhere", "it_aq_nobody", "whatever"));
            assertEquals("28P01", e.getSQLState(), e.toString());
            assertFalse(proxy.server().registry().queriedUsers().contains("it_aq_nobody"));
        }
    }

    @Test
    void md5UserFoundByTheQueryLogsInWithMd5() throws SQLException {
        try (TestProxy proxy = TestProxy.start(settings("md5", LOOKUP_QUERY, password(LOOKUP)))) {
            assertLogsInAsItself(proxy, MD5_USER);
            assertRefused(proxy, MD5_USER, password(MD5_USER) + "-wrong");
            // auth.type md5 with a SCRAM verifier runs SCRAM, as PostgreSQL does.
            assertLogsInAsItself(proxy, SCRAM_USER);
        }
    }

    @Test
    void md5HashCannotVerifyAScramLoginAndTheLogSaysWhy() {
        try (LogCapture log = LogCapture.of(ClientAuthenticator.class);
                TestProxy proxy = TestProxy.start(settings("scram-sha-256", LOOKUP_QUERY, password(LOOKUP)))) {
            assertRefused(proxy, MD5_USER, password(MD5_USER));
            assertTrue(
                    log.warnings().stream()
                            .anyMatch(w -> w.contains("\"" + MD5_USER + "\" has an MD5 password in PostgreSQL")
                                    && w.contains("auth.type = md5")),
                    log.warnings().toString());
        }
    }

    @Test
    void plainAuthChecksTheClientsPasswordAgainstEitherKindOfSecret() throws SQLException {
        try (TestProxy proxy = TestProxy.start(settings("plain", LOOKUP_QUERY, password(LOOKUP)))) {
            assertLogsInAsItself(proxy, SCRAM_USER);
            assertLogsInAsItself(proxy, MD5_USER);
            assertRefused(proxy, SCRAM_USER, password(MD5_USER));
        }
    }

    @Test
    void superuserMayQueryPgShadowDirectly() throws SQLException {
        String settings = "auth.type = scram-sha-256\n"
                + "auth.query = \"SELECT usename, passwd FROM pg_shadow WHERE usename = $1\"\n"
                + "auth.query-user = " + quote(pg.superUser()) + "\n"
                + "auth.users {\n" + user(pg.superUser(), pg.superPassword()) + "}\n"
                + "databases {\n" + database(DB, pg, "") + "}";
        try (TestProxy proxy = TestProxy.start(settings)) {
            assertLogsInAsItself(proxy, SCRAM_USER);
            // No row at all for an unknown name.
            assertRefused(proxy, "it_aq_nobody", "whatever");
        }
    }

    @Test
    void wrongQueryUserPasswordIsAClearErrorAndOtherUsersCarryOn() throws SQLException {
        try (TestProxy proxy = TestProxy.start(settings("scram-sha-256", LOOKUP_QUERY, "not-the-password"))) {
            SQLException e =
                    assertThrows(SQLException.class, () -> proxy.connect(DB, SCRAM_USER, password(SCRAM_USER)));
            assertEquals("08006", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("auth.query for user \"" + SCRAM_USER + "\" failed"), e.getMessage());
            assertTrue(
                    e.getMessage().contains("password authentication failed for user \"" + LOOKUP + "\""),
                    e.getMessage());
            assertLogsInAsItself(proxy, STATIC_USER);
        }
    }

    @Test
    void failingQueryNamesTheServersError() {
        assertQueryFails("SELECT uname, phash FROM public.no_such_lookup($1)", "no_such_lookup", "SQLSTATE 42883");
    }

    @Test
    void queryOfTheWrongShapeIsRefusedWithItsShape() {
        assertQueryFails("SELECT phash FROM public.pgmux_lookup($1)", "returned 1 column(s); expected two");
        assertQueryFails(
                "SELECT uname, phash FROM public.pgmux_lookup($1) UNION ALL SELECT $1, NULL",
                "returned more than one row");
        assertQueryFails("SELECT $1, 'SCRAM-SHA-256$4096:c2FsdA==$broken'", "not a valid SCRAM-SHA-256 verifier");
    }

    /** A login that runs {@code query} fails with 08006 naming the user and each of {@code causes}. */
    private static void assertQueryFails(String query, String... causes) {
        try (TestProxy proxy = TestProxy.start(settings("scram-sha-256", query, password(LOOKUP)))) {
            SQLException e =
                    assertThrows(SQLException.class, () -> proxy.connect(DB, SCRAM_USER, password(SCRAM_USER)));
            assertEquals("08006", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("auth.query for user \"" + SCRAM_USER + "\" failed"), e.getMessage());
            for (String cause : causes) {
                assertTrue(e.getMessage().contains(cause), e.getMessage());
            }
        }
    }

    @Test
    void clientGoneWhileTheQueryRunsLeavesTheServerToItsPool() throws Exception {
        String slow = "SELECT uname, phash FROM public.pgmux_lookup($1), pg_sleep(1)";
        try (TestProxy proxy = TestProxy.start(settings("scram-sha-256", slow, password(LOOKUP)))) {
            try (WireClient client = WireClient.connect(proxy.port())) {
                client.send(WireClient.startup(3 << 16, Map.of("user", SCRAM_USER, "database", DB)));
                Await.until(
                        "auth.query to run", Duration.ofSeconds(10), () -> lookupCounts(proxy), c -> c.leased() == 1);
            }
            Await.until(
                    "the query's server back in its pool",
                    Duration.ofSeconds(10),
                    () -> lookupCounts(proxy),
                    c -> c.leased() == 0 && c.idle() == 1);
            assertLogsInAsItself(proxy, SCRAM_USER);
            assertEquals(1, lookupCounts(proxy).open(), "the next lookup reused the server");
        }
    }

    @Test
    void queryNotAnsweredWithinTheLoginTimeoutFailsTheLoginAndClosesItsServer() throws SQLException {
        String stuck = "SELECT uname, phash FROM public.pgmux_lookup($1), pg_sleep(30)";
        String settings = settings("scram-sha-256", stuck, password(LOOKUP)) + "\npool.client-login-timeout = 1s";
        try (TestProxy proxy = TestProxy.start(settings)) {
            SQLException e =
                    assertThrows(SQLException.class, () -> proxy.connect(DB, SCRAM_USER, password(SCRAM_USER)));
            // The client's own login timer (08P01) and the query's deadline (08006) run out together.
            assertTrue(e.getSQLState().startsWith("08"), e.toString());
            Await.until(
                    "the stuck query's server closed",
                    Duration.ofSeconds(10),
                    () -> lookupCounts(proxy),
                    c -> c.open() == 0 && c.leased() == 0);
            assertEquals(0, pg.countConnections(LOOKUP), "PostgreSQL has no session of the query user left");
        }
    }

    private static Pool.Counts lookupCounts(TestProxy proxy) {
        return proxy.pools().stream()
                .filter(p -> p.key().equals(new PoolKey(DB, LOOKUP)))
                .findFirst()
                .map(Pool::counts)
                .orElse(new Pool.Counts(0, 0, 0, 0, 0, 0));
    }

    @Test
    void passwordChangedInPostgresCountsFromTheNextLogin() throws SQLException {
        pg.createUser(CHANGING_USER, password(CHANGING_USER));
        try (TestProxy proxy = TestProxy.start(settings("scram-sha-256", LOOKUP_QUERY, password(LOOKUP)))) {
            assertLogsInAsItself(proxy, CHANGING_USER);
            String newPassword = password(CHANGING_USER) + "-new";
            pg.createUser(CHANGING_USER, newPassword);
            try {
                assertRefused(proxy, CHANGING_USER, password(CHANGING_USER));
                // Two transactions at once: the second needs a new server login, made with the new secret.
                List<Connection> clients = new ArrayList<>();
                try {
                    for (int i = 0; i < 2; i++) {
                        Connection c = proxy.connect(DB, CHANGING_USER, newPassword);
                        clients.add(c);
                        c.setAutoCommit(false);
                        assertEquals(CHANGING_USER, backendUser(c));
                    }
                    assertTrue(backendPid(clients.get(0)) != backendPid(clients.get(1)));
                } finally {
                    for (Connection c : clients) {
                        c.close();
                    }
                }
            } finally {
                pg.createUser(CHANGING_USER, password(CHANGING_USER));
            }
        }
    }

    @Test
    void showUsersListsQueriedUsersOnceTheyLoggedIn() throws SQLException {
        try (TestProxy proxy = TestProxy.start(settings("scram-sha-256", LOOKUP_QUERY, password(LOOKUP)))) {
            assertFalse(showUsers(proxy).contains(SCRAM_USER));
            assertLogsInAsItself(proxy, SCRAM_USER);
            assertTrue(showUsers(proxy).contains(SCRAM_USER));
            assertTrue(showUsers(proxy).contains(STATIC_USER));

            assertLogsInAsItself(proxy, CHANGING_USER);
            assertTrue(showUsers(proxy).contains(CHANGING_USER));
            try (Connection c = pg.connect(DB);
                    Statement st = c.createStatement()) {
                st.execute("ALTER ROLE " + CHANGING_USER + " PASSWORD NULL");
            }
            try {
                // A NULL secret: refused like an unknown user, and no longer listed.
                assertRefused(proxy, CHANGING_USER, password(CHANGING_USER));
                assertFalse(showUsers(proxy).contains(CHANGING_USER));
            } finally {
                pg.createUser(CHANGING_USER, password(CHANGING_USER));
            }
        }
    }

    private static List<String> showUsers(TestProxy proxy) throws SQLException {
        try (Connection c = proxy.connect("pgmux", ADMIN, password(ADMIN), "preferQueryMode=simple")) {
            return ConsoleRows.show(c, "SHOW USERS").stream()
                    .map(row -> row.get("name"))
                    .toList();
        }
    }

    /** Logs in as {@code user} with its password; PostgreSQL runs the session as that user. */
    private static void assertLogsInAsItself(TestProxy proxy, String user) throws SQLException {
        try (Connection c = proxy.connect(DB, user, password(user))) {
            assertEquals(user, backendUser(c));
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT current_database(), 6 * 7")) {
                assertTrue(rs.next());
                assertEquals(DB, rs.getString(1));
                assertEquals(42, rs.getInt(2));
            }
        }
    }

    private static void assertRefused(TestProxy proxy, String user, String password) {
        SQLException e = assertThrows(SQLException.class, () -> proxy.connect(DB, user, password));
        assertEquals("28P01", e.getSQLState(), e.toString());
        assertTrue(e.getMessage().contains("password authentication failed for user \"" + user + "\""), e.getMessage());
    }

    /** The user pg_stat_activity shows for the backend serving {@code c}. */
    private static String backendUser(Connection c) throws SQLException {
        return queryString(c, "SELECT usename FROM pg_stat_activity WHERE pid = pg_backend_pid()");
    }

    private static String settings(String authType, String query, String lookupPassword) {
        return "auth.type = " + authType + "\n"
                + "auth.query = " + quote(query) + "\n"
                + "auth.query-user = " + quote(LOOKUP) + "\n"
                + "admin.users = [" + quote(ADMIN) + "]\n"
                + "auth.users {\n"
                + user(LOOKUP, lookupPassword)
                + user(STATIC_USER, password(STATIC_USER))
                + user(ADMIN, password(ADMIN))
                + "}\n"
                + "databases {\n" + database(DB, pg, "") + "}";
    }

    private static String password(String user) {
        return user + "-secret";
    }
}
