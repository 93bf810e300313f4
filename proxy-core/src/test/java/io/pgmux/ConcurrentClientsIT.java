package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Many clients over few servers, in transaction mode: every transaction sees its own server, and only that one. */
class ConcurrentClientsIT {
    /** The 200-client test: its own user and database, so that PostgreSQL's connection counts are only pgmux's. */
    private static final String ROWS_USER = "it_many";

    private static final String ROWS_DB = "it_many";
    private static final String PASSWORD = "many-pw";
    private static final int ROWS_POOL_SIZE = 5;
    /** The backend-PID test, with a user and database of its own too. */
    private static final String PID_USER = "it_pid";

    private static final String PID_DB = "it_pid";
    private static final int PID_POOL_SIZE = 2;

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(ROWS_USER, PASSWORD);
        pg.createDatabase(ROWS_DB, ROWS_USER);
        pg.createUser(PID_USER, PASSWORD);
        pg.createDatabase(PID_DB, PID_USER);
        return "pool.query-wait-timeout = 60s\n"
                + "auth.users {\n" + user(ROWS_USER, PASSWORD) + user(PID_USER, PASSWORD) + "}\n"
                + "databases {\n"
                + database(ROWS_DB, pg, "pool { size = " + ROWS_POOL_SIZE + " }")
                + database(PID_DB, pg, "pool { size = " + PID_POOL_SIZE + " }")
                + "}";
    });

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void twoHundredClientsOverFiveServersCommitEveryRowAndNeverOpenMoreThanFive() throws Exception {
        int clients = 200;
        int transactions = 20;
        TestPostgres pg = pgmux.postgres();
        try (Connection c = pg.connect(ROWS_DB, ROWS_USER, PASSWORD);
                Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS rows");
            st.execute("CREATE TABLE rows (client int, txn int, payload text NOT NULL, PRIMARY KEY (client, txn))");
        }
        Await.until(
                "the setup connection to go away",
                TestProxy.RELEASE_DEADLINE,
                () -> pg.countConnections(ROWS_USER) == 0);

        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger maxServers = new AtomicInteger();
        AtomicInteger samples = new AtomicInteger();
        Thread sampler = new Thread(
                () -> {
                    while (!done.get()) {
                        maxServers.accumulateAndGet(pg.countConnections(ROWS_USER), Math::max);
                        samples.incrementAndGet();
                        Await.pause(20);
                    }
                },
                "server-count-sampler");
        sampler.setDaemon(true);
        sampler.start();

        ExecutorService threads = Executors.newFixedThreadPool(clients);
        CountDownLatch connected = new CountDownLatch(clients);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int client = i;
                results.add(threads.submit(() -> {
                    // pgjdbc's defaults: from the 5th use on, its statements are named ones, which pgmux prepares
                    // again on whichever server a transaction lands on.
                    try (Connection c = pgmux.connect(ROWS_DB, ROWS_USER, PASSWORD)) {
                        connected.countDown();
                        if (!go.await(60, TimeUnit.SECONDS)) {
                            throw new TimeoutException("no start signal");
                        }
                        c.setAutoCommit(false);
                        for (int txn = 0; txn < transactions; txn++) {
                            insertAndReadBack(c, client, txn);
                            c.commit();
                        }
                    }
                    return null;
                }));
            }
            assertTrue(connected.await(60, TimeUnit.SECONDS), "all clients logged in through pgmux");
            go.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(100);
            for (int i = 0; i < clients; i++) {
                long left = deadline - System.nanoTime();
                try {
                    results.get(i).get(Math.max(left, 1), TimeUnit.NANOSECONDS);
                } catch (ExecutionException e) {
                    throw new AssertionError("client " + i + " failed: " + e.getCause(), e.getCause());
                }
            }
        } finally {
            threads.shutdownNow();
            done.set(true);
            sampler.join(10_000);
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS), "client threads ended");
        }

        assertTrue(samples.get() >= 5, "the sampler looked at PostgreSQL " + samples.get() + " times");
        assertTrue(maxServers.get() >= 1, "the sampler saw pgmux's servers");
        assertTrue(
                maxServers.get() <= ROWS_POOL_SIZE,
                "PostgreSQL saw " + maxServers.get() + " connections of " + ROWS_USER + ", pool size is "
                        + ROWS_POOL_SIZE);
        assertTrue(pgmux.proxy().pool(ROWS_DB, ROWS_USER).counts().open() <= ROWS_POOL_SIZE);

        try (Connection c = pg.connect(ROWS_DB);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT client, txn, payload FROM rows ORDER BY client, txn")) {
            int count = 0;
            while (rs.next()) {
                int client = count / transactions;
                int txn = count % transactions;
                assertEquals(client, rs.getInt(1), "row " + count);
                assertEquals(txn, rs.getInt(2), "row " + count);
                assertEquals(payload(client, txn), rs.getString(3), "row " + count);
                count++;
            }
            assertEquals(clients * transactions, count, "committed rows");
        }
    }

    private static void insertAndReadBack(Connection c, int client, int txn) throws SQLException {
        try (PreparedStatement insert =
                c.prepareStatement("INSERT INTO rows (client, txn, payload) VALUES (?, ?, ?)")) {
            insert.setInt(1, client);
            insert.setInt(2, txn);
            insert.setString(3, payload(client, txn));
            assertEquals(1, insert.executeUpdate());
        }
        try (PreparedStatement select = c.prepareStatement(
                "SELECT payload, pg_current_xact_id_if_assigned() IS NOT NULL FROM rows WHERE client = ? AND txn = ?")) {
            select.setInt(1, client);
            select.setInt(2, txn);
            try (ResultSet rs = select.executeQuery()) {
                assertTrue(rs.next(), "client " + client + " reads back its row of transaction " + txn);
                assertEquals(payload(client, txn), rs.getString(1));
                assertTrue(rs.getBoolean(2), "the read runs in the transaction of the insert");
            }
        }
    }

    private static String payload(int client, int txn) {
        return "client " + client + " transaction " + txn;
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void twentyClientsOverTwoServersKeepOneBackendWithinEachTransaction() throws Exception {
        int clients = 20;
        int transactions = 10;
        Set<Integer> allPids = ConcurrentHashMap.newKeySet();
        ExecutorService threads = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                boolean sqlBegin = i % 2 == 0;
                results.add(threads.submit(() -> {
                    try (Connection c = pgmux.connect(PID_DB, PID_USER, PASSWORD);
                            Statement st = c.createStatement()) {
                        for (int txn = 0; txn < transactions; txn++) {
                            // Half the clients say BEGIN themselves, half let pgjdbc do it.
                            if (sqlBegin) {
                                st.execute("BEGIN");
                            } else {
                                c.setAutoCommit(false);
                            }
                            Set<Integer> pids = new HashSet<>();
                            for (int statement = 0; statement < 4; statement++) {
                                pids.add(queryInt(st, "SELECT pg_backend_pid()"));
                                st.execute("SELECT pg_sleep(0.002)");
                            }
                            if (sqlBegin) {
                                st.execute("COMMIT");
                            } else {
                                c.commit();
                                c.setAutoCommit(true);
                            }
                            assertEquals(1, pids.size(), "backend PIDs seen within one transaction: " + pids);
                            allPids.addAll(pids);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) {
                result.get(50, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS), "client threads ended");
        }
        assertTrue(
                allPids.size() <= PID_POOL_SIZE,
                "20 clients shared " + allPids.size() + " backends " + allPids + ", pool size is " + PID_POOL_SIZE);
    }
}
