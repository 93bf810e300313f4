package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** pgjdbc's extended protocol through pgmux: parameters, batches, big results and cursors. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ExtendedProtocolIT {
    private static final String USER = "it_ext";
    private static final String DB = "it_ext";
    private static final String PASSWORD = "ext-pw";
    private static final int POOL_SIZE = 2;

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        return "auth.users {\n" + user(USER, PASSWORD) + "}\n" + "databases {\n"
                + database(DB, pg, "pool { size = " + POOL_SIZE + ", query-wait-timeout = 10s }") + "}";
    });

    @BeforeEach
    void createTable() throws SQLException {
        try (Connection c = pgmux.postgres().connect(DB, USER, PASSWORD);
                Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS items");
            st.execute("CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(12, 2), seen timestamptz,"
                    + " data bytea, flag boolean, note text)");
        }
    }

    @Test
    void parametersRoundTripAcrossManyTransactionsOfSeveralClients() throws Exception {
        int clients = 6;
        int transactions = 40;
        ExecutorService threads = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int client = i;
                results.add(threads.submit(() -> {
                    try (Connection c = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                            PreparedStatement insert =
                                    c.prepareStatement("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)");
                            PreparedStatement select = c.prepareStatement(
                                    "SELECT name, price, seen, data, flag, note FROM items WHERE id = ?")) {
                        for (int txn = 0; txn < transactions; txn++) {
                            long id = client * 1_000L + txn;
                            c.setAutoCommit(txn % 2 == 0); // every other one in an explicit transaction
                            insert.setLong(1, id);
                            insert.setString(2, name(id));
                            insert.setBigDecimal(3, price(id));
                            insert.setObject(4, seen(id));
                            insert.setBytes(5, data(id));
                            insert.setBoolean(6, id % 3 == 0);
                            insert.setNull(7, Types.VARCHAR);
                            assertEquals(1, insert.executeUpdate());
                            select.setLong(1, id);
                            try (ResultSet rs = select.executeQuery()) {
                                assertTrue(rs.next(), "row " + id);
                                assertEquals(name(id), rs.getString(1));
                                assertEquals(price(id), rs.getBigDecimal(2));
                                assertEquals(
                                        seen(id).toInstant(),
                                        rs.getObject(3, OffsetDateTime.class).toInstant());
                                assertArrayEquals(data(id), rs.getBytes(4));
                                assertEquals(id % 3 == 0, rs.getBoolean(5));
                                assertNull(rs.getString(6));
                                assertFalse(rs.next());
                            }
                            if (!c.getAutoCommit()) {
                                c.commit();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) {
                result.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));
        }
        assertEquals(clients * transactions, count("SELECT count(*) FROM items"));
    }

    @Test
    void namedStatementsOfMoreClientsThanServersTakeTurnsOnTheServers() throws Exception {
        // pgjdbc names a statement after its 5th use (default prepareThreshold=5), parses it once, then only binds
        // it. Four clients, each with its named statement, take turns on two servers: pgmux must prepare each
        // client's statement on whichever server its next transaction lands on.
        List<Connection> clients = new ArrayList<>();
        List<PreparedStatement> statements = new ArrayList<>();
        try {
            for (int i = 0; i < 2 * POOL_SIZE; i++) {
                Connection c = pgmux.connect(DB, USER, PASSWORD);
                clients.add(c);
                statements.add(c.prepareStatement("SELECT ? * 2"));
            }
            for (int n = 0; n < 20; n++) {
                for (int client = 0; client < clients.size(); client++) {
                    PreparedStatement ps = statements.get(client);
                    ps.setInt(1, client * 100 + n);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals((client * 100 + n) * 2, rs.getInt(1), "client " + client + " use " + n);
                    }
                }
            }
        } finally {
            for (Connection c : clients) {
                c.close();
            }
        }
    }

    @Test
    void errorInsideATransactionKeepsItsServerUntilRollback() throws Exception {
        try (Connection c = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("INSERT INTO items (id, name) VALUES (1, 'kept?')");
            SQLException syntax = assertThrows(SQLException.class, () -> st.execute("SELEKT 1"));
            assertEquals("42601", syntax.getSQLState());
            SQLException aborted = assertThrows(SQLException.class, () -> st.execute("SELECT 1"));
            assertEquals("25P02", aborted.getSQLState(), "still in the failed transaction, on its server");
            c.rollback();
            assertEquals(0, queryInt(st, "SELECT count(*) FROM items"), "a new transaction works");
            c.commit();
        }
        assertEquals(0, count("SELECT count(*) FROM items"), "the failed transaction left nothing");
    }

    @Test
    void batchInsertCommitsEveryRowAndARolledBackBatchNone() throws Exception {
        try (Connection c = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                PreparedStatement insert = c.prepareStatement("INSERT INTO items (id, name) VALUES (?, ?)")) {
            for (int id = 0; id < 2_000; id++) {
                insert.setLong(1, id);
                insert.setString(2, name(id));
                insert.addBatch();
            }
            int[] counts = insert.executeBatch();
            assertEquals(2_000, counts.length);
            assertTrue(Arrays.stream(counts).allMatch(n -> n == 1 || n == Statement.SUCCESS_NO_INFO));

            c.setAutoCommit(false);
            for (int id = 2_000; id < 3_000; id++) {
                insert.setLong(1, id);
                insert.setString(2, name(id));
                insert.addBatch();
            }
            insert.executeBatch();
            c.rollback();
            c.setAutoCommit(true);
        }
        assertEquals(2_000, count("SELECT count(*) FROM items"));
        assertEquals(2_000, count("SELECT count(*) FROM items WHERE name = 'item ' || id"));
    }

    @Test
    void largeResultIsReadInFull() throws Exception {
        try (Connection c = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                PreparedStatement ps =
                        c.prepareStatement("SELECT g, repeat('x', 200) || g FROM generate_series(1, ?) g")) {
            ps.setInt(1, 100_000);
            assertResultIsComplete(ps, 100_000);
        }
    }

    @Test
    void cursorInsideATransactionFetchesAllRowsInChunks() throws Exception {
        try (Connection c = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                PreparedStatement ps =
                        c.prepareStatement("SELECT g, repeat('x', 200) || g FROM generate_series(1, ?) g")) {
            // With autocommit off and a fetch size, pgjdbc suspends the portal and asks for 1000 rows at a time.
            c.setAutoCommit(false);
            ps.setFetchSize(1_000);
            ps.setInt(1, 30_000);
            assertResultIsComplete(ps, 30_000);
            c.commit();
        }
    }

    private static void assertResultIsComplete(PreparedStatement ps, int rows) throws SQLException {
        long count = 0;
        long sum = 0;
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                count++;
                long g = rs.getLong(1);
                sum += g;
                String text = rs.getString(2);
                assertEquals(200 + Long.toString(g).length(), text.length(), "row " + g);
                assertTrue(text.endsWith(Long.toString(g)));
            }
        }
        assertEquals(rows, count);
        assertEquals((long) rows * (rows + 1) / 2, sum);
    }

    private long count(String sql) throws SQLException {
        try (Connection c = pgmux.postgres().connect(DB);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String name(long id) {
        return "item " + id;
    }

    private static BigDecimal price(long id) {
        return BigDecimal.valueOf(id * 100 + 99, 2);
    }

    private static OffsetDateTime seen(long id) {
        return OffsetDateTime.of(2024, 2, 29, 12, 0, 0, 0, ZoneOffset.UTC).plusSeconds(id);
    }

    private static byte[] data(long id) {
        return ("bytes \u00e9\u00e8 " + id).getBytes(StandardCharsets.UTF_8);
    }
}
