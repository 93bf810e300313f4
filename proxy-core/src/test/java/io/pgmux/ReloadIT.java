package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.Sql.queryString;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.quote;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.pool.Pool;
import io.pgmux.testkit.TestPostgres;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live reload through the console's RELOAD (what SIGHUP runs too): pool sizes change under load without a client
 * error, databases and users come and go, an invalid configuration is refused and the running one stays.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReloadIT {
    private static final String ADMIN = "pgmux";
    private static final String ADMIN_PW = "admin-pw";
    private static final String LOAD_USER = "it_reload_load";
    private static final String DB = "it_reload";
    private static final String DB2 = "it_reload_two";
    private static final String PW = "pw";
    /** Server users a database forces, each with max-user-connections = 1. */
    private static final String SVC_A = "it_reload_svc_a";

    private static final String SVC_B = "it_reload_svc_b";

    @TempDir
    Path dir;

    private static TestPostgres pg;

    @BeforeAll
    static void prepare() {
        pg = TestPostgres.shared();
        pg.createUser(LOAD_USER, PW);
        pg.createUser("it_reload_file_a", PW);
        pg.createUser("it_reload_file_b", PW);
        pg.createUser("it_reload_other", PW);
        pg.createUser(SVC_A, PW);
        pg.createUser(SVC_B, PW);
        pg.createDatabase(DB, LOAD_USER);
        pg.createDatabase(DB2, LOAD_USER);
    }

    private static String settings(String users, String databases) {
        return "admin.users = [" + quote(ADMIN) + "]\n"
                + "auth.users {\n" + user(ADMIN, ADMIN_PW) + users + "}\n"
                + "databases {\n" + databases + "}\n";
    }

    private static void reload(TestProxy proxy) throws SQLException {
        try (Connection admin = proxy.connect("pgmux", ADMIN, ADMIN_PW);
                Statement st = admin.createStatement()) {
            st.execute("RELOAD");
        }
    }

    private static String showConfig(TestProxy proxy, String key) throws SQLException {
        try (Connection admin = proxy.connect("pgmux", ADMIN, ADMIN_PW)) {
            return ConsoleRows.showRow(admin, "SHOW CONFIG", "key", key).get("value");
        }
    }

    private static int selectOne(Connection c) throws SQLException {
        return queryInt(c, "SELECT 1");
    }

    @Test
    void poolSizeFollowsReloadsUnderLoadWithoutAClientError() throws Exception {
        String users = user(LOAD_USER, PW);
        String settings = settings(users, database(DB, pg, "pool { size = 5 }"));
        int clients = 10;
        try (TestProxy proxy = TestProxy.start(settings)) {
            ExecutorService threads = Executors.newFixedThreadPool(clients);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong queries = new AtomicLong();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            List<Future<?>> loops = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                loops.add(threads.submit(() -> {
                    try (Connection c = proxy.connect(DB, LOAD_USER, PW);
                            Statement st = c.createStatement()) {
                        // Bounded: the test stops the loop after its last reload, within the class timeout at most.
                        for (int n = 0; n < 100_000 && !stop.get(); n++) {
                            st.execute("SELECT pg_sleep(0.01)");
                            queries.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                    return null;
                }));
            }
            try {
                Await.until("5 servers busy", Duration.ofSeconds(30), () -> pg.countConnections(LOAD_USER) == 5);

                proxy.rewrite(settings(users, database(DB, pg, "pool { size = 2 }")));
                reload(proxy);
                Await.until(
                        "the pool to shrink to 2 servers",
                        Duration.ofSeconds(30),
                        () -> pg.countConnections(LOAD_USER) == 2);
                long before = queries.get();
                Await.until("queries to go on", Duration.ofSeconds(30), () -> queries.get() > before + 20);
                assertTrue(pg.countConnections(LOAD_USER) <= 2);

                proxy.rewrite(settings(users, database(DB, pg, "pool { size = 8 }")));
                reload(proxy);
                Await.until(
                        "the pool to grow to 8 servers",
                        Duration.ofSeconds(30),
                        () -> pg.countConnections(LOAD_USER) == 8);
                assertEquals(8, proxy.pool(DB, LOAD_USER).counts().maxSize());
            } finally {
                stop.set(true);
                for (Future<?> loop : loops) {
                    loop.get(60, TimeUnit.SECONDS);
                }
                threads.shutdownNow();
            }
            assertTrue(errors.isEmpty(), "client errors: " + errors);
        }
    }

    @Test
    void anInvalidConfigIsRefusedAndTheRunningOneStays() throws Exception {
        String users = user("it_reload_other", PW);
        String databases = database(DB, pg, "");
        try (TestProxy proxy = TestProxy.start("pool.size = 3\n" + settings(users, databases));
                Connection app = proxy.connect(DB, "it_reload_other", PW)) {
            assertEquals(1, selectOne(app));
            proxy.rewrite("pool.size = -1\n" + settings(users, databases));

            SQLException refused = assertThrows(SQLException.class, () -> reload(proxy));
            assertEquals("F0000", refused.getSQLState(), refused.getMessage());
            assertTrue(refused.getMessage().contains("pool.size"), refused.getMessage());

            assertEquals(1, selectOne(app));
            assertEquals("3", showConfig(proxy, "pool.size"));
            assertEquals(3, proxy.pool(DB, "it_reload_other").counts().maxSize());
            try (Connection fresh = proxy.connect(DB, "it_reload_other", PW)) {
                assertEquals(1, selectOne(fresh));
            }
        }
    }

    @Test
    void aNewModeAppliesToClientsThatLogInAfterTheReload() throws Exception {
        String users = user("it_reload_other", PW);
        try (TestProxy proxy = TestProxy.start(settings(users, database(DB, pg, "pool { size = 2, mode = session }")));
                Connection before = proxy.connect(DB, "it_reload_other", PW)) {
            assertEquals(1, selectOne(before));
            Pool pool = proxy.pool(DB, "it_reload_other");
            assertEquals(1, pool.counts().leased(), "session mode: the client keeps its server");

            proxy.rewrite(settings(users, database(DB, pg, "pool { size = 2, mode = transaction }")));
            reload(proxy);
            try (Connection after = proxy.connect(DB, "it_reload_other", PW)) {
                assertEquals(1, selectOne(after));
                assertEquals(1, selectOne(before));
                // The new client releases its server after each transaction; the old one keeps its own.
                Await.until(
                        "the new client's server to be released",
                        Duration.ofSeconds(10),
                        () -> pool.counts().leased() == 1);
                assertEquals(1, pool.counts().idle());
            }
        }
    }

    @Test
    void aDatabaseAimedElsewhereIsReconnectedAsItsServersAreReleased() throws Exception {
        String users = user("it_reload_other", PW);
        try (TestProxy proxy = TestProxy.start(settings(users, database(DB, pg, "")));
                Connection c = proxy.connect(DB, "it_reload_other", PW)) {
            c.setAutoCommit(false);
            assertEquals(DB, currentDatabase(c));

            proxy.rewrite(settings(users, database(DB, pg, "dbname = " + quote(DB2))));
            reload(proxy);
            assertEquals(DB, currentDatabase(c), "the running transaction keeps its server");
            c.commit();
            c.setAutoCommit(true);
            assertEquals(DB2, currentDatabase(c));
            Await.until("the old server to close", Duration.ofSeconds(20), () -> countConnections(DB) == 0);
        }
    }

    /**
     * A reload that forces another server user moves the pools of the old one onto the new user's max-user-connections:
     * a client that logged in before the reload counts against it too, so the new user never has more servers than it
     * allows.
     */
    @Test
    void aPoolWhoseForcedUserChangedCountsAgainstTheNewUsersLimit() throws Exception {
        String users = user("it_reload_other", PW)
                + quote(SVC_A) + " { password = " + quote(PW) + ", pool { max-user-connections = 1 } }\n"
                + quote(SVC_B) + " { password = " + quote(PW) + ", pool { max-user-connections = 1 } }\n";
        String wait = ", pool { query-wait-timeout = 1s }";
        try (TestProxy proxy = TestProxy.start(settings(users, database(DB, pg, "user = " + quote(SVC_A) + wait)))) {
            try (Connection before = proxy.connect(DB, "it_reload_other", PW)) {
                assertEquals(SVC_A, currentUser(before));

                proxy.rewrite(settings(users, database(DB, pg, "user = " + quote(SVC_B) + wait)));
                reload(proxy);
                before.setAutoCommit(false);
                assertEquals(SVC_B, currentUser(before), "the pool of before the reload logs in as the new user");

                // A client of the new user's own pool waits for the one server the limit allows (its login needs one).
                SQLException e = assertThrows(SQLException.class, () -> proxy.connect(DB, "it_reload_other", PW));
                assertEquals("08P01", e.getSQLState(), e.toString());
                assertTrue(e.getMessage().contains("query_wait_timeout"), e.getMessage());
                assertEquals(1, pg.countConnections(SVC_B));

                before.commit();
                try (Connection after = proxy.connect(DB, "it_reload_other", PW)) {
                    assertEquals(SVC_B, currentUser(after));
                }
                assertEquals(1, pg.countConnections(SVC_B));
            }
            Await.until(
                    "the old user's server to close", Duration.ofSeconds(20), () -> pg.countConnections(SVC_A) == 0);
        }
    }

    private static String currentUser(Connection c) throws SQLException {
        return queryString(c, "SELECT current_user");
    }

    private static String currentDatabase(Connection c) throws SQLException {
        return queryString(c, "SELECT current_database()");
    }

    @Test
    void addedDatabasesServeAtOnceAndRemovedOnesOnlyTheirClients() throws Exception {
        String users = user("it_reload_other", PW);
        String one = database(DB, pg, "");
        String two = database(DB2, pg, "");
        try (TestProxy proxy = TestProxy.start(settings(users, one))) {
            SQLException unknown = assertThrows(SQLException.class, () -> proxy.connect(DB2, "it_reload_other", PW));
            assertEquals("3D000", unknown.getSQLState());

            proxy.rewrite(settings(users, one + two));
            reload(proxy);
            try (Connection stays = proxy.connect(DB2, "it_reload_other", PW)) {
                assertEquals(1, selectOne(stays));

                proxy.rewrite(settings(users, one));
                reload(proxy);
                SQLException removed =
                        assertThrows(SQLException.class, () -> proxy.connect(DB2, "it_reload_other", PW));
                assertEquals("3D000", removed.getSQLState());
                // A client of the removed database keeps working until it leaves.
                for (int i = 0; i < 5; i++) {
                    assertEquals(1, selectOne(stays));
                }
            }
            Await.until(
                    "the removed database's pool to close its server",
                    Duration.ofSeconds(30),
                    () -> countConnections(DB2) == 0);
        }
    }

    @Test
    void authFileUsersLogInAndAnEditedFileTakesEffectOnReload() throws Exception {
        Path file = dir.resolve("users.conf");
        Files.writeString(file, "users {\n" + user("it_reload_file_a", PW) + "}\n");
        String settings = settings("", database(DB, pg, "")) + "auth.file = " + quote(file.toString()) + "\n";
        try (TestProxy proxy = TestProxy.start(settings)) {
            try (Connection a = proxy.connect(DB, "it_reload_file_a", PW)) {
                assertEquals(1, selectOne(a));
            }
            assertEquals(
                    "28P01",
                    assertThrows(SQLException.class, () -> proxy.connect(DB, "it_reload_file_b", PW))
                            .getSQLState());

            Files.writeString(file, "users {\n" + user("it_reload_file_b", PW) + "}\n");
            reload(proxy);
            try (Connection b = proxy.connect(DB, "it_reload_file_b", PW)) {
                assertEquals(1, selectOne(b));
            }
            assertEquals(
                    "28P01",
                    assertThrows(SQLException.class, () -> proxy.connect(DB, "it_reload_file_a", PW))
                            .getSQLState());

            // A broken file is an invalid config: refused, and the users of the last good one still log in.
            Files.writeString(file, "users { it_reload_file_a { } }\n");
            SQLException refused = assertThrows(SQLException.class, () -> reload(proxy));
            assertEquals("F0000", refused.getSQLState());
            assertTrue(refused.getMessage().contains("users.conf:1"), refused.getMessage());
            try (Connection b = proxy.connect(DB, "it_reload_file_b", PW)) {
                assertEquals(1, selectOne(b));
            }
        }
    }

    private static final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** The status of GET /health on {@code port}. */
    private static int health(int port) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(10))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Whether anything accepts connections on 127.0.0.1:{@code port}. */
    private static boolean listening(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            return true;
        } catch (ConnectException e) {
            return false;
        }
    }

    private static int metricsPort(TestProxy proxy) {
        return proxy.server().metricsAddress().orElseThrow().getPort();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static String metrics(boolean enabled, int port) {
        return "metrics { enabled = " + enabled + ", host = \"127.0.0.1\", port = " + port + " }\n";
    }

    @Test
    void theMetricsEndpointMovesStopsAndStartsWithReloadsAndStaysWhenItsNewPortIsTaken() throws Exception {
        String settings = settings("", "");
        try (TestProxy proxy = TestProxy.start(metrics(true, 0) + settings)) {
            int first = metricsPort(proxy);
            assertEquals(200, health(first));

            int second = freePort();
            proxy.rewrite(metrics(true, second) + settings);
            reload(proxy);
            assertEquals(second, metricsPort(proxy));
            assertEquals(200, health(second));
            assertFalse(listening(first), "the old port is closed");
            assertEquals(Integer.toString(second), showConfig(proxy, "metrics.port"));

            try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                proxy.rewrite("pool.size = 7\n" + metrics(true, taken.getLocalPort()) + settings);
                reload(proxy);
                assertEquals(
                        second, metricsPort(proxy), "a port that cannot be bound leaves the endpoint where it was");
                assertEquals(200, health(second));
                assertEquals(
                        Integer.toString(second), showConfig(proxy, "metrics.port"), "SHOW CONFIG: what is in force");
                assertEquals("7", showConfig(proxy, "pool.size"), "the rest of the reload applies");
            }

            proxy.rewrite(metrics(false, second) + settings);
            reload(proxy);
            assertTrue(proxy.server().metricsAddress().isEmpty());
            assertFalse(listening(second));
            assertEquals("false", showConfig(proxy, "metrics.enabled"));

            proxy.rewrite(metrics(true, 0) + settings);
            reload(proxy);
            assertEquals(200, health(metricsPort(proxy)));
        }
    }

    @Test
    void aReloadedMaxMessageSizeAppliesToClientsThatConnectAfterwards() throws Exception {
        String settings = "auth.type = plain\n" + settings(user("it_reload_other", PW), database(DB, pg, ""));
        String bigQuery = "SELECT '" + "x".repeat(2_000) + "' IS NOT NULL";
        try (TestProxy proxy = TestProxy.start(settings);
                WireClient before = WireClient.login(proxy.port(), DB, "it_reload_other", PW)) {
            proxy.rewrite("max-message-size = 1kB\n" + settings);
            reload(proxy);
            assertEquals("1kB", showConfig(proxy, "max-message-size"));

            before.query(bigQuery);
            List<WireClient.Message> reply = before.readUntilReady();
            assertTrue(reply.stream().noneMatch(m -> m.type() == 'E'), "connected before the reload: " + reply);

            try (WireClient after = WireClient.login(proxy.port(), DB, "it_reload_other", PW)) {
                // Only the header: pgmux refuses from the announced length.
                after.send(new WireClient.Bytes().int8('Q').int32(2_005).build());
                WireClient.Ending ending = after.readUntilClosed(Duration.ofSeconds(10));
                assertEquals("08P01", ending.sqlState(), ending::toString);
                assertTrue(ending.errors().get(0).fields().get('M').contains("max-message-size"), ending::toString);
            }
        }
    }

    /** Connections PostgreSQL has open to {@code database}, excluding the one asking. */
    private static int countConnections(String database) {
        try (Connection c = pg.connect("postgres");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database
                        + "' AND pid <> pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
