package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.quote;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.pool.Pool;
import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Limits above a single pool: max-db-connections over all users of a database, max-user-connections over all
 * databases of a user, and the reserve a pool may open beyond its size once a client has waited reserve-timeout.
 * Counted where a user would look: backends in pg_stat_activity.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConnectionLimitsIT {
    private static final String DB = "it_lim";
    private static final String PASSWORD = "lim-pw";
    /** Two users sharing max-db-connections = 3 of one database, each pool allowed 5. */
    private static final String USER_A = "it_lim_a";

    private static final String USER_B = "it_lim_b";
    /** One user with max-user-connections = 2 over two databases. */
    private static final String USER_U = "it_lim_u";

    private static final String U_DB1 = "it_lim_u1";
    private static final String U_DB2 = "it_lim_u2";
    /** size 1, reserve-size 1 after 500ms. */
    private static final String USER_R = "it_lim_r";

    private static final String RESERVE_DB = "it_lim_reserve";

    private static final ExecutorService threads = Executors.newCachedThreadPool();

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        for (String u : List.of(USER_A, USER_B, USER_U, USER_R)) {
            pg.createUser(u, PASSWORD);
        }
        pg.createDatabase(DB, USER_A);
        String target = "dbname = " + quote(DB) + ", pool { ";
        // max-user-connections is the server user's own setting, over all its databases.
        String userU = quote(USER_U) + " { password = " + quote(PASSWORD) + ", pool { max-user-connections = 2 } }\n";
        return "auth.users {\n" + user(USER_A, PASSWORD) + user(USER_B, PASSWORD) + userU
                + user(USER_R, PASSWORD) + "}\n"
                + "databases {\n"
                + database(DB, pg, "pool { size = 5, max-db-connections = 3 }")
                + database(U_DB1, pg, target + "size = 5, query-wait-timeout = 1s }")
                + database(U_DB2, pg, target + "size = 5 }")
                + database(RESERVE_DB, pg, target + "size = 1, reserve-size = 1, reserve-timeout = 500ms }")
                + "}";
    });

    private final TestPostgres pg = pgmux.postgres();

    @AfterAll
    static void stopThreads() {
        threads.shutdownNow();
    }

    @Test
    void sixClientsOfTwoUsersNeverHaveMoreThanMaxDbConnectionsBackends() throws Exception {
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger peakBackends = new AtomicInteger();
        AtomicInteger peakServers = new AtomicInteger();
        CompletableFuture<Void> sampler = CompletableFuture.runAsync(
                () -> {
                    for (int i = 0; i < 2_000 && !done.get(); i++) {
                        peakBackends.accumulateAndGet(backends(USER_A, USER_B), Math::max);
                        peakServers.accumulateAndGet(serversInPgmux(DB), Math::max);
                        Await.pause(20);
                    }
                },
                threads);
        List<CompletableFuture<Integer>> clients = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String user = i % 2 == 0 ? USER_A : USER_B;
            clients.add(CompletableFuture.supplyAsync(() -> runQueries(DB, user, 5), threads));
        }
        try {
            for (CompletableFuture<Integer> client : clients) {
                assertEquals(5, client.get(60, TimeUnit.SECONDS), "every client eventually gets all its answers");
            }
        } finally {
            done.set(true);
            sampler.get(30, TimeUnit.SECONDS);
        }
        assertTrue(peakServers.get() <= 3, "pgmux held " + peakServers.get() + " servers of " + DB + " at once");
        assertTrue(peakBackends.get() <= 3, "PostgreSQL saw " + peakBackends.get() + " backends at once");
        assertTrue(peakBackends.get() >= 2, "both users' clients ran: peak " + peakBackends.get());
        pgmux.proxy().awaitAllReleased();
    }

    /** A pool at the database limit takes the room of another pool's idle server rather than wait for it. */
    @Test
    void idleServersOfAnotherPoolMakeRoomAtTheDatabaseLimit() throws Exception {
        List<Connection> warm = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Connection c = pgmux.connect(DB, USER_A, PASSWORD, "prepareThreshold=0");
                warm.add(c);
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                }
            }
            for (Connection c : warm) {
                c.commit(); // three idle servers of USER_A's pool now hold the database's whole budget
            }
            Await.until(
                    "user a's three servers to be idle",
                    Duration.ofSeconds(10),
                    () -> pgmux.proxy().pool(DB, USER_A).counts().idle() == 3);

            try (Connection b = pgmux.connect(DB, USER_B, PASSWORD, "prepareThreshold=0");
                    Statement st = b.createStatement()) {
                assertEquals(1, queryInt(st, "SELECT 1"));
            }
            assertTrue(backends(USER_A, USER_B) <= 3, "backends: " + backends(USER_A, USER_B));
        } finally {
            for (Connection c : warm) {
                c.close();
            }
        }
        pgmux.proxy().awaitAllReleased();
    }

    @Test
    void maxUserConnectionsHoldsOverAllDatabasesOfTheUser() throws Exception {
        try (Connection one = pgmux.connect(U_DB1, USER_U, PASSWORD, "prepareThreshold=0");
                Connection two = pgmux.connect(U_DB2, USER_U, PASSWORD, "prepareThreshold=0");
                Connection three = pgmux.connect(U_DB1, USER_U, PASSWORD, "prepareThreshold=0");
                Statement st1 = one.createStatement();
                Statement st2 = two.createStatement();
                Statement st3 = three.createStatement()) {
            one.setAutoCommit(false);
            two.setAutoCommit(false);
            st1.execute("SELECT 1");
            st2.execute("SELECT 2");
            assertEquals(2, pg.countConnections(USER_U));

            // The user's two servers are taken, in two databases: a third client waits, and gives up at 1s.
            SQLException e = assertThrows(SQLException.class, () -> queryInt(st3, "SELECT 3"));
            assertEquals("08P01", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("query_wait_timeout"), e.getMessage());
            assertEquals(2, pg.countConnections(USER_U));

            // A client of the other database waits until the first database's server is idle, which makes room.
            CompletableFuture<Integer> waiting =
                    CompletableFuture.supplyAsync(() -> runQueries(U_DB2, USER_U, 1), threads);
            Await.until(
                    "a client of " + U_DB2 + " to wait",
                    Duration.ofSeconds(10),
                    () -> pgmux.proxy().pool(U_DB2, USER_U).counts().waiting() == 1);
            one.commit();
            assertEquals(1, waiting.get(30, TimeUnit.SECONDS));
            assertTrue(pg.countConnections(USER_U) <= 2, "backends: " + pg.countConnections(USER_U));
            two.commit();
        }
        pgmux.proxy().awaitAllReleased();
    }

    @Test
    void aClientWaitingReserveTimeoutGetsAReserveServerThatClosesAfterwards() throws Exception {
        try (Connection holder = pgmux.connect(RESERVE_DB, USER_R, PASSWORD, "prepareThreshold=0");
                Connection second = pgmux.connect(RESERVE_DB, USER_R, PASSWORD, "prepareThreshold=0");
                Statement holding = holder.createStatement();
                Statement st = second.createStatement()) {
            holder.setAutoCommit(false);
            int held = queryInt(holding, "SELECT pg_backend_pid()");

            int reserve = queryInt(st, "SELECT pg_backend_pid()");
            assertTrue(reserve != held, "a second server beyond size 1");

            Await.until(
                    "the reserve server to close once nobody waits",
                    Duration.ofSeconds(10),
                    () -> pg.countConnections(USER_R) == 1);
            holder.commit();
        }
        Pool pool = pgmux.proxy().pool(RESERVE_DB, USER_R);
        Await.until(
                "the pool to be back at its size",
                Duration.ofSeconds(10),
                () -> pool.counts().open() <= 1);
        pgmux.proxy().awaitAllReleased();
    }

    /** Runs {@code count} short queries on a fresh client; returns how many answered. */
    private static int runQueries(String database, String user, int count) {
        try (Connection c = pgmux.connect(database, user, PASSWORD, "prepareThreshold=0");
                Statement st = c.createStatement()) {
            int answered = 0;
            for (int i = 0; i < count; i++) {
                st.execute("SELECT pg_sleep(0.2)");
                answered++;
            }
            return answered;
        } catch (SQLException e) {
            throw new IllegalStateException(database + "/" + user + ": " + e, e);
        }
    }

    private static int serversInPgmux(String database) {
        return pgmux.proxy().pools().stream()
                .filter(p -> p.key().database().equals(database))
                .mapToInt(p -> p.counts().open() + p.counts().connecting())
                .sum();
    }

    /** Logged-in client backends of these users, in one look at pg_stat_activity. */
    private int backends(String... users) {
        try (Connection c = pg.connect("postgres");
                PreparedStatement ps = c.prepareStatement("SELECT count(*)::int FROM pg_stat_activity"
                        + " WHERE usename = ANY (?) AND backend_type = 'client backend'")) {
            ps.setArray(1, c.createArrayOf("text", users));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
