package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bounded soak: mixed traffic (autocommit queries, transactions with writes, named prepared
 * statements, bigger results, settings) from many clients, with clients killed at random in the
 * middle of their transactions. Only the killed clients see errors; afterwards PostgreSQL has no
 * busy or idle-in-transaction server of the pool, the pool has nothing leased or waiting, no client
 * is counted, and the heap after GC is back near where it started. 1 minute by default;
 * {@code -Dpgmux.soak.seconds=600} (the {@code soak} Maven profile) for 10 minutes.
 */
@Timeout(value = 1800, unit = TimeUnit.SECONDS)
class SoakIT {
    private static final String DB = "it_soak";
    private static final String USER = "it_soak_user";
    private static final String PASSWORD = "it-soak-pw";
    private static final int SECONDS = Integer.getInteger("pgmux.soak.seconds", 60);
    private static final int CLIENTS = 16;
    private static final int POOL_SIZE = 5;

    @Test
    void mixedTrafficWithRandomKillsLeavesEverythingAsItWas() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        try (Connection direct = pg.connect(DB);
                Statement s = direct.createStatement()) {
            s.execute("DROP TABLE IF EXISTS soak");
            s.execute("CREATE TABLE soak (client int, n int, note text)");
            s.execute("GRANT ALL ON soak TO " + USER);
        }
        try (TestProxy proxy = TestProxy.start("auth.users { " + user(USER, PASSWORD) + " }\n"
                + "pool { size = " + POOL_SIZE + ", query-wait-timeout = 60s }\n"
                + "databases { " + database(DB, pg, "") + " }")) {
            long heapBefore = heapAfterGc();
            AtomicInteger operations = new AtomicInteger();
            AtomicInteger kills = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            ExecutorService threads = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> workers = new ArrayList<>();
                for (int id = 0; id < CLIENTS; id++) {
                    int client = id;
                    workers.add(threads.submit(() -> {
                        SplittableRandom random = new SplittableRandom(client);
                        while (System.nanoTime() < deadline && failure.get() == null) {
                            try (Connection c = proxy.connect(DB, USER, PASSWORD, "prepareThreshold=2")) {
                                for (int i = 0; i < 200 && System.nanoTime() < deadline; i++) {
                                    if (random.nextInt(100) < 2) {
                                        killMidTransaction(c, client);
                                        kills.incrementAndGet();
                                        break;
                                    }
                                    oneOperation(c, client, i, random);
                                    operations.incrementAndGet();
                                }
                            } catch (Throwable e) {
                                failure.compareAndSet(null, e);
                            }
                        }
                    }));
                }
                for (Future<?> w : workers) {
                    w.get(SECONDS + 120L, TimeUnit.SECONDS);
                }
            } finally {
                threads.shutdownNow();
            }
            if (failure.get() != null) {
                throw new AssertionError("a client that was not killed saw an error", failure.get());
            }
            System.out.printf("soak: %d operations, %d clients killed, %d s%n", operations.get(), kills.get(), SECONDS);
            assertTrue(operations.get() > SECONDS * 10, "traffic ran: " + operations.get());
            assertTrue(kills.get() > 0, "some clients were killed");

            proxy.awaitAllReleased();
            Await.until(
                    "no client counted",
                    Duration.ofSeconds(10),
                    () -> proxy.server().registry().clientCount() == 0);
            Await.until(
                    "no busy or idle-in-transaction server of the pool in pg_stat_activity",
                    Duration.ofSeconds(10),
                    () -> busyServers(pg) == 0);
            assertTrue(pg.countConnections(USER) <= POOL_SIZE, "at most pool.size servers");
            long heapAfter = heapAfterGc();
            assertTrue(
                    heapAfter - heapBefore < (48L << 20),
                    "heap after GC grew by " + ((heapAfter - heapBefore) >> 20) + " MiB over the soak");
            try (Connection direct = pg.connect(DB);
                    Statement s = direct.createStatement();
                    ResultSet rs = s.executeQuery("SELECT count(*) FROM soak WHERE note = 'killed'")) {
                rs.next();
                assertEquals(0, rs.getInt(1), "no write of a killed client's transaction was committed");
            }
        }
    }

    private static void oneOperation(Connection c, int client, int i, SplittableRandom random) throws SQLException {
        switch (random.nextInt(5)) {
            case 0 -> {
                try (Statement s = c.createStatement();
                        ResultSet rs = s.executeQuery("SELECT " + i)) {
                    rs.next();
                    assertEquals(i, rs.getInt(1));
                }
            }
            case 1 -> {
                c.setAutoCommit(false);
                try (PreparedStatement insert = c.prepareStatement("INSERT INTO soak VALUES (?, ?, 'ok')");
                        PreparedStatement read =
                                c.prepareStatement("SELECT count(*) FROM soak WHERE client = ? AND n = ?")) {
                    insert.setInt(1, client);
                    insert.setInt(2, i);
                    insert.executeUpdate();
                    read.setInt(1, client);
                    read.setInt(2, i);
                    try (ResultSet rs = read.executeQuery()) {
                        rs.next();
                        assertTrue(rs.getInt(1) >= 1);
                    }
                    c.commit();
                } finally {
                    c.setAutoCommit(true);
                }
            }
            case 2 -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT g FROM generate_series(1, ?) g")) {
                    ps.setInt(1, 2000);
                    int rows = 0;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            rows++;
                        }
                    }
                    assertEquals(2000, rows);
                }
            }
            case 3 -> {
                try (Statement s = c.createStatement()) {
                    s.execute("SET application_name = 'soak-" + client + "'");
                    try (ResultSet rs = s.executeQuery("SHOW application_name")) {
                        rs.next();
                        assertEquals("soak-" + client, rs.getString(1));
                    }
                }
            }
            default -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2")) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(i * 2, rs.getInt(1));
                    }
                }
            }
        }
    }

    /** Writes inside a transaction, then drops the connection without a goodbye. */
    private static void killMidTransaction(Connection c, int client) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("INSERT INTO soak VALUES (" + client + ", -1, 'killed')");
        }
        c.abort(Runnable::run);
    }

    private static int busyServers(TestPostgres pg) {
        return PgActivity.busyServers(pg, DB, USER);
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Await.pause(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
