package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.quote;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.WireClient.Bytes;
import io.pgmux.pool.Pool;
import io.pgmux.server.ServerConnection;
import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Faults on the server side and clients that vanish at awkward moments: server connections killed by PostgreSQL
 * (pg_terminate_backend) while idle and in the middle of a transaction; a network that resets, half-closes, drops new
 * connections or stalls ({@link FaultRelay} between pgmux and PostgreSQL); clients gone mid-pipeline, mid-COPY and
 * mid-result. What a client sees (SQLSTATE, and how soon), that other clients carry on, and that no server connection
 * is ever handed out dirty.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerFaultsIT {
    private static final String USER = "it_fault";
    private static final String PASSWORD = "fault-pw";
    /** Direct to PostgreSQL, one server: the next client gets the slot a vanished client left. */
    private static final String DB = "it_fault";
    /** Direct to PostgreSQL, room for several clients at once. */
    private static final String KILL_DB = "it_fault_kill";
    /** Through the relay, each test its own pool so that one's broken servers do not meet another's. */
    private static final String RESET_DB = "it_fault_reset";

    private static final String HALF_CLOSE_DB = "it_fault_half";
    private static final String DOWN_DB = "it_fault_down";
    private static final String STALL_DB = "it_fault_stall";
    private static final String LATENCY_DB = "it_fault_latency";
    private static final String RETRY_DB = "it_fault_retry";

    private static final String CONNECTION_FAILURE = "08006";
    private static final String ADMIN_SHUTDOWN = "57P01";

    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.withRelay((pg, relay) -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        String sameDb = "dbname = " + quote(DB);
        // Cleartext logins, so that WireClient can log in.
        return "auth.type = plain\n"
                + "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n"
                + database(DB, pg, "pool { size = 1, query-wait-timeout = 15s }")
                + database(KILL_DB, pg, sameDb + ", pool { size = 4 }")
                + relay.database(RESET_DB, sameDb)
                + relay.database(HALF_CLOSE_DB, sameDb)
                + relay.database(DOWN_DB, sameDb)
                // No login back-off here: these tests check each stalled login, one right after another.
                + relay.database(STALL_DB, sameDb + ", pool { server-connect-timeout = 1s, server-login-retry = 0s }")
                + relay.database(LATENCY_DB, sameDb)
                + relay.database(RETRY_DB, sameDb + ", pool { server-login-retry = 1s }")
                + "}";
    });

    private final TestPostgres pg = pgmux.postgres();

    @BeforeAll
    static void createTable() throws SQLException {
        try (Connection c = pgmux.postgres().connect(DB, USER, PASSWORD);
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS sink (n int)");
        }
    }

    // ---- PostgreSQL kills a server connection -----------------------------------------------------------------------

    /**
     * Once pgmux has seen an idle server die, it never hands it out: the next query succeeds on its first try. (A
     * query sent in the instant between the kill and pgmux reading the server's FATAL message races it, and may get
     * 08006 or 57P01; {@link #serverKilledWhileIdleRacingTheNextQueryCostsAtMostOneRetry} covers that case.)
     */
    @Test
    void serverKilledWhileIdleIsNeverHandedToTheNextClient() throws SQLException {
        try (Connection client = pgmux.connect(KILL_DB, USER, PASSWORD, "prepareThreshold=0")) {
            int killed = queryInt(client, "SELECT pg_backend_pid()");
            Pool pool = pgmux.proxy().pool(KILL_DB, USER);
            int openBefore = pool.counts().open();

            terminate(killed);
            Await.until(
                    "pgmux to notice that server " + killed + " died",
                    Duration.ofSeconds(5),
                    () -> pool.counts(),
                    counts -> counts.open() == openBefore - 1);

            int now = queryInt(client, "SELECT pg_backend_pid()");
            assertTrue(now != killed, "a live server, not the killed one");
            try (Connection next = pgmux.connect(KILL_DB, USER, PASSWORD, "prepareThreshold=0")) {
                assertEquals(1, queryInt(next, "SELECT 1"));
            }
        }
    }

    @Test
    void serverKilledWhileIdleRacingTheNextQueryCostsAtMostOneRetry() throws SQLException {
        try (Connection client = pgmux.connect(KILL_DB, USER, PASSWORD, "prepareThreshold=0")) {
            int killed = queryInt(client, "SELECT pg_backend_pid()");
            terminate(killed);
            int now;
            try {
                now = queryInt(client, "SELECT pg_backend_pid()");
            } catch (SQLException raced) {
                assertTrue(
                        Set.of(CONNECTION_FAILURE, ADMIN_SHUTDOWN).contains(raced.getSQLState()),
                        "a lost race reads as the server going away: " + raced);
                now = queryInt(client, "SELECT pg_backend_pid()");
            }
            assertTrue(now != killed, "a live server, not the killed one");
        }
    }

    @Test
    void serverKilledWhileItsClientIsIdleInATransactionFailsOnlyThatClient() throws Exception {
        try (Connection victim = pgmux.connect(KILL_DB, USER, PASSWORD, "prepareThreshold=0");
                Connection other = pgmux.connect(KILL_DB, USER, PASSWORD, "prepareThreshold=0")) {
            victim.setAutoCommit(false);
            int killed = queryInt(victim, "SELECT pg_backend_pid()");
            other.setAutoCommit(false);
            int otherPid = queryInt(other, "SELECT pg_backend_pid()");

            long start = System.nanoTime();
            terminate(killed);
            SQLException e = assertThrows(SQLException.class, () -> queryInt(victim, "SELECT 1"));
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertTrue(Set.of(CONNECTION_FAILURE, ADMIN_SHUTDOWN).contains(e.getSQLState()), e.toString());
            assertTrue(millis < 2_000, "error after " + millis + " ms");
            assertEquals(
                    otherPid, queryInt(other, "SELECT pg_backend_pid()"), "the other client's transaction lives on");
            other.commit();
            assertReplaced(victim, killed);
        }
    }

    @Test
    void serverKilledInTheMiddleOfAQueryFailsThatClientWithin2Seconds() throws Exception {
        try (Connection victim = pgmux.connect(KILL_DB, USER, PASSWORD, "prepareThreshold=0");
                Connection other = pgmux.connect(KILL_DB, USER, PASSWORD, "prepareThreshold=0")) {
            victim.setAutoCommit(false);
            int killed = queryInt(victim, "SELECT pg_backend_pid()");
            CompletableFuture<SQLException> sleeping = failureOf(victim, "SELECT pg_sleep(20)");
            Await.until("the victim's query to run", Duration.ofSeconds(10), () -> running(USER, "pg_sleep(20)"));

            long start = System.nanoTime();
            terminate(killed);
            SQLException e = sleeping.get(2, TimeUnit.SECONDS);
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertNotNull(e, "the victim's query failed");
            assertTrue(Set.of(CONNECTION_FAILURE, ADMIN_SHUTDOWN).contains(e.getSQLState()), e.toString());
            assertTrue(millis < 2_000, "error after " + millis + " ms");
            assertEquals(1, queryInt(other, "SELECT 1"), "the other client is unaffected");
            assertReplaced(victim, killed);
        }
    }

    // ---- the network between pgmux and PostgreSQL fails ----------------------------------------------------------

    /** What the network does to the open connections in the middle of a query; each with a pool of its own. */
    enum MidQueryFault {
        RESET(RESET_DB, FaultRelay::resetAll),
        HALF_CLOSE(HALF_CLOSE_DB, FaultRelay::halfCloseAll);

        final String database;
        final Consumer<FaultRelay> strike;

        MidQueryFault(String database, Consumer<FaultRelay> strike) {
            this.database = database;
            this.strike = strike;
        }
    }

    @ParameterizedTest
    @EnumSource(MidQueryFault.class)
    void relayFailingConnectionsMidQueryFailsTheClientWith08006(MidQueryFault fault) throws Exception {
        try (Connection client = pgmux.connect(fault.database, USER, PASSWORD, "prepareThreshold=0")) {
            // PostgreSQL notices the dead connection only when the sleep ends and it writes: keep it short.
            CompletableFuture<SQLException> sleeping = failureOf(client, "SELECT pg_sleep(3)");
            Await.until("the query to run", Duration.ofSeconds(10), () -> running(USER, "pg_sleep(3)"));

            long start = System.nanoTime();
            fault.strike.accept(pgmux.relay());
            SQLException e = sleeping.get(2, TimeUnit.SECONDS);
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertNotNull(e, "the query failed");
            assertEquals(CONNECTION_FAILURE, e.getSQLState(), e.toString());
            assertTrue(millis < 2_000, "error after " + millis + " ms");
            assertEquals(1, queryInt(client, "SELECT 1"), "the same client goes on, on a new server");
        }
        awaitNoBusyServer();
    }

    @Test
    void postgresUnreachableFailsAQueryWith08006AtOnceAndPgmuxRecoversByItself() throws Exception {
        try (Connection client = pgmux.connect(DOWN_DB, USER, PASSWORD, "prepareThreshold=0")) {
            assertEquals(1, queryInt(client, "SELECT 1"));
            dropServersOf(DOWN_DB);
            pgmux.relay().dropNew();

            long start = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, () -> queryInt(client, "SELECT 2"));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(CONNECTION_FAILURE, e.getSQLState(), e.toString());
            assertTrue(
                    e.getMessage().contains(Integer.toString(pgmux.relay().port())),
                    "names the server: " + e.getMessage());
            assertTrue(millis < 5_000, "error after " + millis + " ms; server-connect-timeout is 15 s");

            pgmux.relay().pass();
            int value = Await.until(
                    "a query through pgmux to succeed once PostgreSQL is reachable again",
                    Duration.ofSeconds(10),
                    () -> {
                        try {
                            return queryInt(client, "SELECT 3");
                        } catch (SQLException notYet) {
                            return -1;
                        }
                    },
                    v -> v == 3);
            assertEquals(3, value);
        }
    }

    /**
     * While PostgreSQL refuses connections, pgmux waits server-login-retry after a failed login before it tries again
     * (DESIGN, pool.server-login-retry), so that a crowd of clients does not turn into a connection storm; the
     * clients get 08006 at once meanwhile.
     */
    @Test
    void failedLoginsAreRetriedAfterServerLoginRetryNotOnEveryQuery() throws Exception {
        try (Connection client = pgmux.connect(RETRY_DB, USER, PASSWORD, "prepareThreshold=0")) {
            assertEquals(1, queryInt(client, "SELECT 1"));
            dropServersOf(RETRY_DB);
            pgmux.relay().dropNew();
            int before = pgmux.relay().acceptedCount();

            long start = System.nanoTime();
            for (int i = 0; i < 10; i++) {
                SQLException e = assertThrows(SQLException.class, () -> queryInt(client, "SELECT 2"));
                assertEquals(CONNECTION_FAILURE, e.getSQLState(), e.toString());
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            int attempts = pgmux.relay().acceptedCount() - before;

            assertTrue(millis < 900, "10 failed queries took " + millis + " ms: they must not wait for a retry");
            assertEquals(1, attempts, "connection attempts to PostgreSQL within server-login-retry (1 s)");
        }
    }

    @Test
    void stalledLoginFailsTheWaitingClientNamingServerConnectTimeout() throws Exception {
        try (Connection client = pgmux.connect(STALL_DB, USER, PASSWORD, "prepareThreshold=0")) {
            assertEquals(1, queryInt(client, "SELECT 1"));
            dropServersOf(STALL_DB);
            pgmux.relay().stall();

            long start = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, () -> queryInt(client, "SELECT 2"));
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertEquals(CONNECTION_FAILURE, e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("server_connect_timeout"), e.getMessage());
            assertTrue(millis >= 900 && millis < 3_000, "error after " + millis + " ms for a 1 s timeout");

            pgmux.relay().pass();
            assertEquals(3, queryInt(client, "SELECT 3"), "the same client, once the network passes again");
        }
    }

    /** The error names the setting and its value as the configuration writes it ("1s"), like query_wait_timeout's. */
    @Test
    void serverConnectTimeoutErrorSaysTheTimeoutAsConfigured() throws Exception {
        try (Connection client = pgmux.connect(STALL_DB, USER, PASSWORD, "prepareThreshold=0")) {
            assertEquals(1, queryInt(client, "SELECT 1"));
            dropServersOf(STALL_DB);
            pgmux.relay().stall();

            SQLException e = assertThrows(SQLException.class, () -> queryInt(client, "SELECT 2"));

            assertTrue(e.getMessage().contains("within 1s"), e.getMessage());
            pgmux.relay().pass();
        }
    }

    @Test
    void latencyDoesNotMixUpConcurrentClients() throws Exception {
        pgmux.relay().latency(Duration.ofMillis(20));
        List<CompletableFuture<Void>> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int id = i;
            clients.add(CompletableFuture.runAsync(() -> {
                try (Connection c = pgmux.connect(LATENCY_DB, USER, PASSWORD, "prepareThreshold=0")) {
                    for (int q = 0; q < 5; q++) {
                        int expected = id * 100 + q;
                        assertEquals(expected, queryInt(c, "SELECT " + expected));
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        CompletableFuture.allOf(clients.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
    }

    // ---- clients vanish at awkward moments -----------------------------------------------------------------------

    @Test
    void clientGoneMidPipelineLeavesNoDirtyServer() throws Exception {
        try (WireClient client = WireClient.login(pgmux.port(), DB, USER, PASSWORD)) {
            client.query("BEGIN");
            client.readUntilReady();
            // Parse, Bind, Execute and no Sync: the batch is open when the client goes (FIN, no Terminate).
            client.sendTyped(
                    'P',
                    new Bytes()
                            .cstring("")
                            .cstring("INSERT INTO sink VALUES (1)")
                            .int16(0)
                            .build());
            client.sendTyped(
                    'B',
                    new Bytes()
                            .cstring("")
                            .cstring("")
                            .int16(0)
                            .int16(0)
                            .int16(0)
                            .build());
            client.sendTyped('E', new Bytes().cstring("").int32(0).build());
            client.sendTyped('H', new byte[0]);
            assertEquals('1', client.read().type(), "ParseComplete");
        }
        assertNextClientGetsACleanServer();
    }

    @Test
    void clientGoneMidCopyLeavesNoDirtyServer() throws Exception {
        try (WireClient client = WireClient.login(pgmux.port(), DB, USER, PASSWORD)) {
            client.query("COPY sink FROM STDIN");
            assertEquals('G', client.read().type(), "CopyInResponse");
            for (int i = 0; i < 100; i++) {
                client.sendTyped('d', (i + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
            // No CopyDone: the client goes in the middle of the COPY.
        }
        assertNextClientGetsACleanServer();
        assertEquals(0, countSink(), "the rows of the unfinished COPY");
    }

    @Test
    void clientGoneMidResultLeavesNoDirtyServer() throws Exception {
        try (WireClient client = WireClient.login(pgmux.port(), DB, USER, PASSWORD)) {
            client.query("SELECT n, repeat('x', 100) FROM generate_series(1, 1000000) AS n");
            assertEquals('T', client.read().type(), "RowDescription");
            for (int i = 0; i < 10; i++) {
                assertEquals('D', client.read().type(), "DataRow");
            }
            // The client reads no further: a million rows are still coming when it goes.
        }
        assertNextClientGetsACleanServer();
    }

    @Test
    void clientResetMidResultLeavesNoDirtyServer() throws Exception {
        WireClient client = WireClient.login(pgmux.port(), DB, USER, PASSWORD);
        client.query("SELECT n, repeat('x', 100) FROM generate_series(1, 1000000) AS n");
        assertEquals('T', client.read().type(), "RowDescription");
        client.reset();
        assertNextClientGetsACleanServer();
    }

    /**
     * A client that resets in the middle of a big result costs one log line about its server, not one per row that
     * was still on its way.
     */
    @Test
    void clientResetMidResultIsNotLoggedOncePerRow() throws Exception {
        try (LogCapture serverLog = LogCapture.of(ServerConnection.class)) {
            // The client and its server are on the same event loop half of the time, and then nothing is read
            // between the release and the close: several rounds make the other case all but certain.
            for (int i = 0; i < 6; i++) {
                WireClient client = WireClient.login(pgmux.port(), DB, USER, PASSWORD);
                client.query("SELECT n, repeat('x', 100) FROM generate_series(1, 1000000) AS n");
                assertEquals('T', client.read().type(), "RowDescription");
                for (int row = 0; row < 100; row++) {
                    client.read();
                }
                client.reset();
                assertNextClientGetsACleanServer();
            }
            List<String> perRow = serverLog.warnings().stream()
                    .filter(w -> w.contains("unexpected message"))
                    .toList();
            assertTrue(
                    perRow.size() <= 6,
                    perRow.size() + " warnings for 6 resets, e.g. "
                            + perRow.stream().limit(3).toList());
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    /**
     * The next client through the one-server pool is outside any transaction, its queries work, and PostgreSQL shows
     * no server of the test user in a transaction or running something.
     */
    private void assertNextClientGetsACleanServer() throws SQLException {
        try (Connection c = pgmux.connect(DB, USER, PASSWORD, "preferQueryMode=simple");
                Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT pg_current_xact_id_if_assigned() IS NULL")) {
                rs.next();
                assertTrue(
                        rs.getBoolean(1), "no transaction id assigned: not inside the vanished client's transaction");
            }
            assertEquals(1, queryInt(c, "SELECT 1"));
        }
        awaitNoBusyServer();
        Await.until(
                "the pool to have its server back",
                Duration.ofSeconds(5),
                () -> pgmux.proxy().pool(DB, USER).counts().leased() == 0);
    }

    private void awaitNoBusyServer() {
        Await.until(
                "no server of " + USER + " idle in transaction or active",
                Duration.ofSeconds(10),
                this::busyServers,
                List::isEmpty);
    }

    /** pid and state of the test user's backends that are in a transaction or running a query. */
    private List<String> busyServers() {
        try (Connection c = pg.connect(DB);
                PreparedStatement ps = c.prepareStatement("SELECT pid, state, query FROM pg_stat_activity"
                        + " WHERE usename = ? AND backend_type = 'client backend'"
                        + " AND (state = 'active' OR state LIKE 'idle in transaction%')")) {
            ps.setString(1, USER);
            List<String> busy = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    busy.add(rs.getInt(1) + " " + rs.getString(2) + ": " + rs.getString(3));
                }
            }
            return busy;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The victim's connection goes on after its error, on another server, and the pool took the dead one out. */
    private void assertReplaced(Connection victim, int killed) throws SQLException {
        victim.rollback();
        int now = queryInt(victim, "SELECT pg_backend_pid()");
        assertTrue(now != killed, "a new server, not the killed one");
        victim.commit();
        Pool pool = pgmux.proxy().pool(KILL_DB, USER);
        Await.until(
                "the pool to count only live servers",
                Duration.ofSeconds(5),
                () -> pool.counts(),
                counts -> counts.open() <= counts.maxSize() && counts.leased() == 0);
    }

    /** Closes the pool's servers from the PostgreSQL side and waits until pgmux has seen them go. */
    private void dropServersOf(String database) {
        Pool pool = pgmux.proxy().pool(database, USER);
        pgmux.relay().resetAll();
        Await.until(
                "pgmux to drop the servers of " + database,
                Duration.ofSeconds(5),
                () -> pool.counts(),
                c -> c.open() == 0 && c.connecting() == 0);
    }

    private void terminate(int pid) throws SQLException {
        try (Connection c = pg.connect(DB);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_terminate_backend(" + pid + ")")) {
            rs.next();
            assertTrue(rs.getBoolean(1), "PostgreSQL terminated backend " + pid);
        }
    }

    private boolean running(String user, String query) {
        return PgActivity.isRunning(pg, DB, user, query);
    }

    private int countSink() throws SQLException {
        try (Connection c = pg.connect(DB);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM sink")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Runs {@code sql} on another thread; completes with its error, or null when it succeeded. */
    private static CompletableFuture<SQLException> failureOf(Connection c, String sql) {
        return CompletableFuture.supplyAsync(() -> {
            try (Statement st = c.createStatement()) {
                st.execute(sql);
                return null;
            } catch (SQLException e) {
                return e;
            }
        });
    }
}
