package io.pgmux;

import static io.pgmux.ConsoleRows.columns;
import static io.pgmux.ConsoleRows.find;
import static io.pgmux.ConsoleRows.show;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgmux.WireClient.Bytes;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The admin console: PgBouncer's SHOW commands over pgjdbc (simple and extended protocol) and psql. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class AdminConsoleIT {
    private static final String APP = "it_admin_app";
    private static final String APP_PW = "app-pw";
    private static final String ADMIN = "pgmux";
    private static final String ADMIN_PW = "admin-pw";
    private static final String DB = "it_admin";

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(APP, APP_PW);
        pg.createDatabase(DB, APP);
        return "admin.users = [\"" + ADMIN + "\"]\n" + "auth.users {\n" + user(APP, APP_PW) + user(ADMIN, ADMIN_PW)
                + "}\n" + "databases {\n" + database(DB, pg, "pool { size = 4 }") + "}";
    });

    private static Connection admin(String mode) throws SQLException {
        return pgmux.proxy().connect("pgmux", ADMIN, ADMIN_PW, "preferQueryMode=" + mode);
    }

    /** pgmux's server connections for the app's pool as PostgreSQL sees them: how many in each state. */
    private static Map<String, Integer> serversByState() throws SQLException {
        Map<String, Integer> states = new HashMap<>();
        try (Connection c = pgmux.postgres().connect(DB);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT state, count(*) FROM pg_stat_activity WHERE datname = '" + DB
                        + "' AND usename = '" + APP + "' GROUP BY state")) {
            while (rs.next()) {
                states.put(rs.getString(1), rs.getInt(2));
            }
        }
        return states;
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void showVersion(String mode) throws Exception {
        try (Connection c = admin(mode)) {
            List<Map<String, String>> rows = show(c, "show version;");
            assertEquals(1, rows.size());
            assertTrue(rows.get(0).get("version").startsWith("pgmux "), rows.toString());
            // The same statement again and again: pgjdbc switches to a named statement and binary int8 results.
            for (int i = 0; i < 6; i++) {
                assertEquals(rows, show(c, "SHOW VERSION"));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void showPoolsWhileAClientHoldsATransaction(String mode) throws Exception {
        for (int i = 0; i < 3; i++) {
            try (Connection app = pgmux.proxy().connect(DB, APP, APP_PW);
                    Statement st = app.createStatement()) {
                st.execute("SELECT 1");
            }
        }
        try (Connection holder = pgmux.proxy().connect(DB, APP, APP_PW);
                Connection c = admin(mode)) {
            holder.setAutoCommit(false);
            try (Statement st = holder.createStatement()) {
                st.execute("SELECT 1");
            }
            assertEquals(
                    List.of(
                            "database",
                            "user",
                            "cl_active",
                            "cl_waiting",
                            "cl_active_cancel_req",
                            "cl_waiting_cancel_req",
                            "sv_active",
                            "sv_active_cancel",
                            "sv_being_canceled",
                            "sv_idle",
                            "sv_used",
                            "sv_tested",
                            "sv_login",
                            "maxwait",
                            "maxwait_us",
                            "pool_mode",
                            "load_balance_hosts"),
                    columns(c, "SHOW POOLS"));
            // The earlier clients left none, one or several servers idle (the holder may have taken the only one, and
            // clients on different worker loops may have opened one each); PostgreSQL knows how many: sv_idle says so.
            Map<String, Integer> servers = serversByState();
            assertEquals(1, servers.get("idle in transaction"), "the holder's server: " + servers);
            String idle = String.valueOf(servers.getOrDefault("idle", 0));
            for (int i = 0; i < 6; i++) {
                Map<String, String> pool = find(show(c, "SHOW POOLS"), "database", DB);
                assertEquals(APP, pool.get("user"));
                assertEquals("1", pool.get("cl_active"), pool.toString());
                assertEquals("1", pool.get("sv_active"), pool.toString());
                assertEquals("0", pool.get("cl_waiting"), pool.toString());
                assertEquals(idle, pool.get("sv_idle"), "idle servers by PostgreSQL's count " + servers + ": " + pool);
                assertEquals("0", pool.get("sv_login"), pool.toString());
                assertEquals("transaction", pool.get("pool_mode"));
            }
            holder.rollback();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void showDatabasesUsersListsConfigStats(String mode) throws Exception {
        try (Connection app = pgmux.proxy().connect(DB, APP, APP_PW);
                Statement st = app.createStatement()) {
            st.execute("SELECT 1");
            st.execute("SELECT 2");
        }
        try (Connection c = admin(mode)) {
            List<String> dbColumns = columns(c, "SHOW DATABASES");
            assertEquals(
                    List.of(
                            "name",
                            "host",
                            "port",
                            "database",
                            "force_user",
                            "pool_size",
                            "min_pool_size",
                            "reserve_pool_size",
                            "server_lifetime",
                            "pool_mode"),
                    dbColumns.subList(0, 10));
            assertTrue(dbColumns.containsAll(List.of("max_connections", "current_connections", "paused", "disabled")));
            Map<String, String> db = find(show(c, "SHOW DATABASES"), "name", DB);
            assertEquals("4", db.get("pool_size"));
            assertEquals(String.valueOf(pgmux.postgres().port()), db.get("port"));
            assertEquals("transaction", db.get("pool_mode"));

            assertEquals("name", columns(c, "SHOW USERS").get(0));
            assertTrue(columns(c, "SHOW USERS").contains("pool_mode"));
            assertEquals("transaction", find(show(c, "SHOW USERS"), "name", APP).get("pool_mode"));
            find(show(c, "SHOW USERS"), "name", ADMIN);

            assertEquals(List.of("list", "items"), columns(c, "SHOW LISTS"));
            List<Map<String, String>> lists = show(c, "SHOW LISTS");
            assertEquals(
                    List.of(
                            "databases",
                            "users",
                            "pools",
                            "free_clients",
                            "used_clients",
                            "login_clients",
                            "free_servers",
                            "used_servers",
                            "dns_names",
                            "dns_zones",
                            "dns_queries",
                            "dns_pending"),
                    lists.stream().map(r -> r.get("list")).toList());
            assertEquals("2", find(lists, "list", "users").get("items"));
            assertTrue(Integer.parseInt(find(lists, "list", "pools").get("items")) >= 1);

            assertEquals(List.of("key", "value", "default", "changeable"), columns(c, "SHOW CONFIG"));
            List<Map<String, String>> config = show(c, "SHOW CONFIG");
            assertEquals("transaction", find(config, "key", "pool.mode").get("value"));
            assertEquals("20", find(config, "key", "pool.size").get("default"));
            assertEquals("pgmux", find(config, "key", "admin.database").get("value"));
            assertEquals("0", find(config, "key", "listen.port").get("value"));
            assertFalse(config.toString().contains(APP_PW), "passwords never show");
            assertEquals(
                    "256MB", find(config, "key", "max-message-size").get("value"), "a size as pgmux check writes it");
            assertEquals("256MB", find(config, "key", "max-message-size").get("default"));
            assertEquals("2m", find(config, "key", "pool.query-wait-timeout").get("value"));
            assertEquals("no", find(config, "key", "listen.port").get("changeable"));
            assertEquals("yes", find(config, "key", "tls.client.mode").get("changeable"));
            assertEquals("yes", find(config, "key", "metrics.port").get("changeable"));
            assertEquals("yes", find(config, "key", "max-message-size").get("changeable"));

            List<String> statsColumns = columns(c, "SHOW STATS");
            assertEquals(
                    List.of(
                            "database",
                            "total_xact_count",
                            "total_query_count",
                            "total_received",
                            "total_sent",
                            "total_xact_time",
                            "total_query_time",
                            "total_wait_time"),
                    statsColumns.subList(0, 8));
            assertTrue(statsColumns.containsAll(List.of("avg_xact_count", "avg_query_count", "avg_xact_time")));
            Map<String, String> stats = find(show(c, "SHOW STATS"), "database", DB);
            assertTrue(Long.parseLong(stats.get("total_query_count")) >= 2, stats.toString());
            assertTrue(Long.parseLong(stats.get("total_xact_count")) >= 2, stats.toString());
            assertTrue(Long.parseLong(stats.get("total_received")) > 0, stats.toString());
            assertTrue(Long.parseLong(stats.get("total_query_time")) > 0, stats.toString());
        }
    }

    /** PgBouncer's columns of each SHOW command, in order, as "name type" (int8 or text); pgmux's extras last. */
    private static final Map<String, String> SHOW_COLUMNS = Map.of(
            "SHOW VERSION",
            "version text",
            "SHOW POOLS",
            "database text, user text, cl_active int8, cl_waiting int8, cl_active_cancel_req int8,"
                    + " cl_waiting_cancel_req int8, sv_active int8, sv_active_cancel int8, sv_being_canceled int8,"
                    + " sv_idle int8, sv_used int8, sv_tested int8, sv_login int8, maxwait int8, maxwait_us int8,"
                    + " pool_mode text, load_balance_hosts text",
            "SHOW DATABASES",
            "name text, host text, port int8, database text, force_user text, pool_size int8, min_pool_size int8,"
                    + " reserve_pool_size int8, server_lifetime int8, pool_mode text, load_balance_hosts text,"
                    + " max_connections int8, current_connections int8, max_client_connections int8,"
                    + " current_client_connections int8, paused int8, disabled int8",
            "SHOW USERS",
            "name text, pool_size int8, reserve_pool_size int8, pool_mode text, max_user_connections int8,"
                    + " current_connections int8, max_user_client_connections int8, current_client_connections int8",
            "SHOW LISTS",
            "list text, items int8",
            "SHOW CONFIG",
            "key text, value text, default text, changeable text",
            "SHOW STATS",
            "database text, total_xact_count int8, total_query_count int8, total_received int8, total_sent int8,"
                    + " total_xact_time int8, total_query_time int8, total_wait_time int8, avg_xact_count int8,"
                    + " avg_query_count int8, avg_recv int8, avg_sent int8, avg_xact_time int8, avg_query_time int8,"
                    + " avg_wait_time int8",
            "SHOW SERVERS",
            "type text, user text, database text, state text, addr text, port int8, local_addr text,"
                    + " local_port int8, connect_time text, request_time text, wait int8, wait_us int8,"
                    + " close_needed int8, ptr text, link text, remote_pid int8, tls text, application_name text,"
                    + " prepared_statements int8",
            "SHOW CLIENTS",
            "type text, user text, database text, state text, addr text, port int8, local_addr text,"
                    + " local_port int8, connect_time text, request_time text, wait int8, wait_us int8,"
                    + " close_needed int8, ptr text, link text, remote_pid int8, tls text, application_name text,"
                    + " prepared_statements int8, pin_reasons text");

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void everyShowCommandHasItsColumnsInOrderWithTheirTypes(String mode) throws Exception {
        try (Connection c = admin(mode)) {
            for (Map.Entry<String, String> command : SHOW_COLUMNS.entrySet()) {
                List<String> actual = new ArrayList<>();
                try (Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery(command.getKey())) {
                    ResultSetMetaData md = rs.getMetaData();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        actual.add(md.getColumnName(i) + " " + md.getColumnTypeName(i));
                    }
                }
                assertEquals(command.getValue(), String.join(", ", actual), command.getKey());
            }
        }
    }

    @Test
    void showStatsCountsExactlyTheTransactionsAndQueriesATestRan() throws Exception {
        try (Connection c = admin("simple");
                Connection app = pgmux.proxy().connect(DB, APP, APP_PW);
                Statement st = app.createStatement()) {
            st.execute("SELECT 1");
            Map<String, String> before = find(show(c, "SHOW STATS"), "database", DB);
            for (int i = 0; i < 5; i++) {
                st.execute("SELECT " + i);
            }
            Await.until(
                    "SHOW STATS to count 5 more transactions and queries",
                    java.time.Duration.ofSeconds(10),
                    () -> {
                        try {
                            Map<String, String> after = find(show(c, "SHOW STATS"), "database", DB);
                            return delta(before, after, "total_xact_count") + " transactions, "
                                    + delta(before, after, "total_query_count") + " queries";
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    "5 transactions, 5 queries"::equals);
        }
    }

    private static long delta(Map<String, String> before, Map<String, String> after, String column) {
        return Long.parseLong(after.get(column)) - Long.parseLong(before.get(column));
    }

    @Test
    void aNonAdminUserIsRefused() {
        SQLException e = assertThrows(SQLException.class, () -> pgmux.proxy().connect("pgmux", APP, APP_PW));
        assertEquals("42501", e.getSQLState(), e.toString());
        assertTrue(e.getMessage().contains("not allowed to connect to the admin console"), e.getMessage());
        SQLException viaPgbouncer =
                assertThrows(SQLException.class, () -> pgmux.proxy().connect("pgbouncer", APP, APP_PW));
        assertEquals("42501", viaPgbouncer.getSQLState());
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void anUnknownCommandFailsAndTheSessionGoesOn(String mode) throws Exception {
        try (Connection c = pgmux.proxy().connect("pgbouncer", ADMIN, ADMIN_PW, "preferQueryMode=" + mode)) {
            SQLException e = assertThrows(SQLException.class, () -> show(c, "SELECT 1"));
            assertEquals("42601", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("unsupported admin command: SELECT 1"), e.getMessage());
            SQLException unknownShow = assertThrows(SQLException.class, () -> show(c, "SHOW NOTHING"));
            assertEquals("42601", unknownShow.getSQLState());
            assertEquals(1, show(c, "SHOW VERSION").size());
        }
    }

    @Test
    void shutdownAnswersThenDrainsPgmux() throws Exception {
        try (TestProxy own =
                TestProxy.start("admin.users = [\"" + ADMIN + "\"]\nauth.users {\n" + user(ADMIN, ADMIN_PW) + "}")) {
            try (Connection c = own.connect("pgmux", ADMIN, ADMIN_PW, "preferQueryMode=simple");
                    Statement st = c.createStatement()) {
                st.execute("shutdown");
                own.server().stopped().get(20, TimeUnit.SECONDS);
                assertThrows(SQLException.class, () -> st.execute("SHOW VERSION"));
            }
        }
    }

    /** A Bind of the unnamed statement to the unnamed portal, no parameters, announcing {@code resultFormats} codes. */
    private static byte[] unnamedBind(int resultFormats) {
        Bytes body = new Bytes().cstring("").cstring("").int16(0).int16(0);
        return WireClient.typed('B', body.int16(resultFormats).build());
    }

    @Test
    void aMalformedBindOrExecuteEndsTheConsoleSessionWith08P01AndTheConsoleCarriesOn() throws Exception {
        // A Bind announcing two result formats and carrying none, and an Execute without its row limit.
        Map<String, byte[]> malformedMessages = Map.of(
                "Bind",
                unnamedBind(2),
                "Execute",
                WireClient.typed('E', new Bytes().cstring("").int16(0).build()));
        try (TestProxy own = TestProxy.start(
                "auth.type = plain\nadmin.users = [\"" + ADMIN + "\"]\nauth.users {\n" + user(ADMIN, ADMIN_PW) + "}")) {
            for (Map.Entry<String, byte[]> malformed : malformedMessages.entrySet()) {
                try (WireClient console = WireClient.login(own.port(), "pgmux", ADMIN, ADMIN_PW)) {
                    Bytes parse = new Bytes().cstring("").cstring("SHOW VERSION");
                    console.sendTyped('P', parse.int16(0).build());
                    if (malformed.getKey().equals("Execute")) {
                        console.send(unnamedBind(0));
                    }
                    console.send(malformed.getValue());

                    WireClient.Ending ending = console.readUntilClosed(Duration.ofSeconds(10));

                    assertEquals("08P01", ending.sqlState(), ending::toString);
                    Map<Character, String> error = ending.errors().get(0).fields();
                    assertEquals("FATAL", error.get('V'), ending::toString);
                    assertTrue(
                            error.get('M').startsWith("invalid " + malformed.getKey() + " message"), error::toString);
                    assertTrue(error.get('M').contains("message too short"), error::toString);
                }
            }
            try (WireClient console = WireClient.login(own.port(), "pgmux", ADMIN, ADMIN_PW)) {
                console.query("SHOW VERSION");
                List<WireClient.Message> reply = console.readUntilReady();
                assertTrue(reply.stream().anyMatch(m -> m.type() == 'D'), reply::toString);
                assertEquals('I', reply.get(reply.size() - 1).transactionStatus());
            }
        }
    }

    @Test
    void anUnknownStatementOrPortalOnTheConsoleGetsPostgresqlsSqlstates() throws Exception {
        try (TestProxy own = TestProxy.start(
                "auth.type = plain\nadmin.users = [\"" + ADMIN + "\"]\nauth.users {\n" + user(ADMIN, ADMIN_PW) + "}")) {
            try (WireClient console = WireClient.login(own.port(), "pgmux", ADMIN, ADMIN_PW)) {
                // Bind to a statement never prepared, then (after Sync) Execute a portal never bound.
                console.sendTyped(
                        'B',
                        new Bytes()
                                .cstring("")
                                .cstring("nope")
                                .int16(0)
                                .int16(0)
                                .int16(0)
                                .build());
                console.sendTyped('S', new byte[0]);
                List<WireClient.Message> noStatement = console.readUntilReady();
                console.sendTyped('E', new Bytes().cstring("nowhere").int32(0).build());
                console.sendTyped('S', new byte[0]);
                List<WireClient.Message> noPortal = console.readUntilReady();

                Map<Character, String> statementError = noStatement.get(0).fields();
                assertEquals("26000", statementError.get('C'), noStatement::toString);
                assertEquals("prepared statement \"nope\" does not exist", statementError.get('M'));
                Map<Character, String> portalError = noPortal.get(0).fields();
                assertEquals("34000", portalError.get('C'), noPortal::toString);
                assertEquals("portal \"nowhere\" does not exist", portalError.get('M'));
                // ERROR, not FATAL: the console goes on.
                console.query("SHOW VERSION");
                List<WireClient.Message> reply = console.readUntilReady();
                assertTrue(reply.stream().anyMatch(m -> m.type() == 'D'), reply::toString);
            }
        }
    }

    /** The message types of {@code replies} in order, ReadyForQuery with its status: {@code "1 2 D D s Z(I)"}. */
    private static String types(List<WireClient.Message> replies) {
        List<String> types = new ArrayList<>();
        for (WireClient.Message m : replies) {
            types.add(m.type() == 'Z' ? "Z(" + m.transactionStatus() + ")" : String.valueOf(m.type()));
        }
        return String.join(" ", types);
    }

    /** The first value of each DataRow among {@code replies}. */
    private static List<String> firstValues(List<WireClient.Message> replies) {
        return replies.stream()
                .filter(m -> m.type() == 'D')
                .map(m -> m.values().get(0))
                .toList();
    }

    /** {@code count} times {@code type}, space-separated. */
    private static String times(int count, String type) {
        return String.join(" ", Collections.nCopies(count, type));
    }

    @Test
    void executeWithARowLimitSuspendsThePortalAndTheNextExecuteReadsOn() throws Exception {
        try (TestProxy own = TestProxy.start(
                "auth.type = plain\nadmin.users = [\"" + ADMIN + "\"]\nauth.users {\n" + user(ADMIN, ADMIN_PW) + "}")) {
            try (WireClient console = WireClient.login(own.port(), "pgmux", ADMIN, ADMIN_PW)) {
                console.query("SHOW CONFIG");
                List<String> keys = firstValues(console.readUntilReady());
                int n = keys.size();
                assertTrue(n > 6, keys::toString);

                // Outside BEGIN: the Executes of one portal read on, and Sync ends the implicit transaction and the
                // portal with it.
                console.parse("", "SHOW CONFIG");
                console.bind("p", "");
                console.execute("p", 2);
                console.execute("p", 3);
                List<WireClient.Message> batches = console.sync();
                assertEquals("1 2 D D s D D D s Z(I)", types(batches));
                assertEquals(keys.subList(0, 5), firstValues(batches));
                console.execute("p", 0);
                List<WireClient.Message> ended = console.sync();
                assertEquals("E Z(I)", types(ended));
                assertEquals(
                        "portal \"p\" does not exist", ended.get(0).fields().get('M'));

                // Inside BEGIN, portals outlive Sync and each reads on from where it stopped.
                console.query("BEGIN");
                List<WireClient.Message> begin = console.readUntilReady();
                assertEquals("C Z(T)", types(begin));
                assertEquals("BEGIN", begin.get(0).tag());
                console.parse("", "SHOW CONFIG");
                console.bind("a", "");
                console.bind("b", "");
                console.execute("a", 2);
                console.execute("b", 1);
                List<WireClient.Message> firstBatches = console.sync();
                assertEquals("1 2 2 D D s D s Z(T)", types(firstBatches));
                assertEquals(List.of(keys.get(0), keys.get(1), keys.get(0)), firstValues(firstBatches));

                console.execute("a", 0);
                List<WireClient.Message> rest = console.sync();
                assertEquals(times(n - 2, "D") + " C Z(T)", types(rest));
                assertEquals(keys.subList(2, n), firstValues(rest));
                assertEquals("SHOW", rest.get(n - 2).tag());
                console.execute("a", 1);
                assertEquals("C Z(T)", types(console.sync()), "a portal read to its end has no more rows");

                // A limit that takes exactly the rows left still suspends, as in PostgreSQL; the next Execute ends.
                console.execute("b", n - 1);
                console.execute("b", 5);
                List<WireClient.Message> exact = console.sync();
                assertEquals(times(n - 1, "D") + " s C Z(T)", types(exact));
                assertEquals(keys.subList(1, n), firstValues(exact));

                // COMMIT ends the block and its portals.
                console.query("COMMIT");
                List<WireClient.Message> commit = console.readUntilReady();
                assertEquals("C Z(I)", types(commit));
                assertEquals("COMMIT", commit.get(0).tag());
                console.execute("b", 0);
                List<WireClient.Message> gone = console.sync();
                assertEquals("34000", gone.get(0).fields().get('C'), gone::toString);
            }
        }
    }

    @Test
    void pgjdbcWithAFetchSizeReadsShowClientsInBatchesWithinItsTransaction() throws Exception {
        String appName = "fetch-size-it";
        List<Connection> apps = new ArrayList<>();
        try (Connection c = admin("extended")) {
            for (int i = 0; i < 3; i++) {
                apps.add(pgmux.proxy().connect(DB, APP, APP_PW, "ApplicationName=" + appName));
            }
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(2);
                List<String> ports = new ArrayList<>();
                int ours = 0;
                try (ResultSet rs = st.executeQuery("SHOW CLIENTS")) {
                    while (rs.next()) {
                        ports.add(rs.getString("addr") + ":" + rs.getString("port"));
                        ours += appName.equals(rs.getString("application_name")) ? 1 : 0;
                    }
                }
                assertEquals(3, ours, "the app clients, each once: " + ports);
                assertTrue(ports.size() >= 4, "the app clients and the console: " + ports);
                assertEquals(ports.size(), ports.stream().distinct().count(), "no row twice: " + ports);

                // The rows come two at a time from a portal, which COMMIT ends, as in PostgreSQL.
                try (ResultSet partial = st.executeQuery("SHOW CLIENTS")) {
                    assertTrue(partial.next());
                    assertTrue(partial.next());
                    c.commit();
                    SQLException gone = assertThrows(SQLException.class, partial::next);
                    assertEquals("34000", gone.getSQLState(), gone.toString());
                }
            }
            c.setAutoCommit(true);
            assertEquals(1, show(c, "SHOW VERSION").size(), "the console goes on");
        } finally {
            for (Connection app : apps) {
                app.close();
            }
        }
    }

    @Test
    void psqlShowsPools() throws Exception {
        String psql = pgmux.postgres().psqlPath();
        assumeTrue(psql != null, "no psql on this machine");
        try (Connection app = pgmux.proxy().connect(DB, APP, APP_PW);
                Statement st = app.createStatement()) {
            st.execute("SELECT 1");
        }
        ProcessBuilder builder = new ProcessBuilder(
                        psql,
                        "-X",
                        "-A",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        Integer.toString(pgmux.port()),
                        "-U",
                        ADMIN,
                        "-d",
                        "pgmux",
                        "-c",
                        "SHOW POOLS")
                .redirectErrorStream(true);
        builder.environment().put("PGPASSWORD", ADMIN_PW);
        builder.environment().put("PGCONNECT_TIMEOUT", "10");
        builder.environment().remove("PGSERVICE");
        Process process = builder.start();
        process.getOutputStream().close();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "psql finished");
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.startsWith("database|user|cl_active|cl_waiting|"), output);
        // The app's pool once its client left: nobody active or waiting, every server idle (as many as PostgreSQL
        // has), no wait, transaction mode, and an empty load_balance_hosts.
        int idle = serversByState().getOrDefault("idle", 0);
        assertEquals(
                List.of(
                        DB,
                        APP,
                        "0",
                        "0",
                        "0",
                        "0",
                        "0",
                        "0",
                        "0",
                        String.valueOf(idle),
                        "0",
                        "0",
                        "0",
                        "0",
                        "0",
                        "transaction",
                        ""),
                output.lines()
                        .filter(line -> line.startsWith(DB + "|"))
                        .map(line -> List.of(line.split("\\|", -1)))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no row for " + DB + ": " + output)),
                output);
        assertTrue(idle >= 1, "the client's server stays idle in the pool");
        assertTrue(output.lines().anyMatch(line -> line.matches("\\(\\d+ rows?\\)")), "psql's row count: " + output);
    }
}
