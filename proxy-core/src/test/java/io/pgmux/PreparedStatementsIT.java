package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Protocol-level named statements in transaction mode: they keep working whichever server a
 * client's next transaction lands on, clients never collide on names, identical statements share
 * one server-side statement, and at most max-prepared-statements stay on a server.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PreparedStatementsIT {
    private static final String DB = "it_prepared";
    private static final String USER = "it_prepared_user";
    private static final String PASSWORD = "it-prepared-pw";

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        return "auth.users { " + user(USER, PASSWORD) + " }\n"
                + "pool { size = 3, max-prepared-statements = 5 }\n"
                + "databases { " + database(DB, pg, "") + " }";
    });

    @BeforeAll
    static void createItems() throws SQLException {
        try (Connection c = pgmux.proxy().connect(DB, USER, PASSWORD);
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text)");
            s.execute("TRUNCATE items");
            s.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g");
        }
    }

    private static Connection connect(String... settings) throws SQLException {
        return pgmux.proxy().connect(DB, USER, PASSWORD, settings);
    }

    @Test
    void manyClientsWithServerSidePreparedStatementsAcrossTransactions() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(12);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int client = 0; client < 12; client++) {
                String threshold = client % 2 == 0 ? "prepareThreshold=1" : "prepareThreshold=5";
                results.add(pool.submit(() -> {
                    int done = 0;
                    try (Connection c = connect(threshold);
                            PreparedStatement byId = c.prepareStatement("SELECT name FROM items WHERE id = ?");
                            PreparedStatement count = c.prepareStatement("SELECT count(*) FROM items WHERE id <= ?")) {
                        for (int i = 1; i <= 60; i++) {
                            byId.setInt(1, i);
                            try (ResultSet rs = byId.executeQuery()) {
                                assertTrue(rs.next());
                                assertEquals("item " + i, rs.getString(1));
                            }
                            count.setInt(1, i);
                            try (ResultSet rs = count.executeQuery()) {
                                assertTrue(rs.next());
                                assertEquals(i, rs.getInt(1));
                            }
                            done++;
                        }
                    }
                    return done;
                }));
            }
            for (Future<Integer> result : results) {
                assertEquals(60, result.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        pgmux.proxy().awaitAllReleased();
    }

    @Test
    void clientsPreparingTheSameNameWithDifferentSqlDoNotCollide() throws Exception {
        // pgjdbc names its statements S_1, S_2, ...: every client uses the same names for different SQL.
        try (Connection a = connect("prepareThreshold=1");
                Connection b = connect("prepareThreshold=1");
                PreparedStatement pa = a.prepareStatement("SELECT 'a' || ?::text");
                PreparedStatement pb = b.prepareStatement("SELECT 'b' || ?::int * 2")) {
            for (int i = 0; i < 20; i++) {
                pa.setString(1, "x" + i);
                pb.setInt(1, i);
                try (ResultSet ra = pa.executeQuery();
                        ResultSet rb = pb.executeQuery()) {
                    ra.next();
                    rb.next();
                    assertEquals("ax" + i, ra.getString(1));
                    assertEquals("b" + (i * 2), rb.getString(1));
                }
            }
        }
    }

    @Test
    void serversKeepAtMostMaxPreparedStatements() throws SQLException {
        try (Connection c = connect("prepareThreshold=1")) {
            for (int i = 0; i < 12; i++) {
                try (PreparedStatement ps = c.prepareStatement("SELECT " + i + " + ?::int")) {
                    ps.setInt(1, 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(i + 1, rs.getInt(1));
                    }
                }
            }
            try (Statement s = c.createStatement();
                    ResultSet rs =
                            s.executeQuery("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pgmux_%'")) {
                rs.next();
                assertTrue(rs.getInt(1) <= 5, "at most max-prepared-statements per server, got " + rs.getInt(1));
            }
        }
    }

    @Test
    void errorInsideAPipelineLeavesClientAndServerUsable() throws SQLException {
        try (Connection c = connect("prepareThreshold=1");
                PreparedStatement bad = c.prepareStatement("SELECT 1 / ?::int");
                PreparedStatement good = c.prepareStatement("SELECT ?::int")) {
            bad.setInt(1, 0);
            try (ResultSet ignored = bad.executeQuery()) {
                throw new AssertionError("division by zero expected");
            } catch (SQLException e) {
                assertEquals("22012", e.getSQLState());
            }
            for (int i = 0; i < 5; i++) {
                good.setInt(1, i);
                try (ResultSet rs = good.executeQuery()) {
                    rs.next();
                    assertEquals(i, rs.getInt(1));
                }
                bad.setInt(1, 1);
                try (ResultSet rs = bad.executeQuery()) {
                    rs.next();
                    assertEquals(1, rs.getInt(1));
                }
            }
        }
    }

    @Test
    void sqlLevelPrepareAndExecuteWork() throws SQLException {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            s.execute("PREPARE by_id(int) AS SELECT name FROM items WHERE id = $1");
            for (int i = 1; i <= 5; i++) {
                try (ResultSet rs = s.executeQuery("EXECUTE by_id(" + i + ")")) {
                    rs.next();
                    assertEquals("item " + i, rs.getString(1));
                }
            }
            s.execute("DEALLOCATE by_id");
        }
        pgmux.proxy().awaitAllReleased();
    }

    @Test
    void statementsHealAfterDdlChangesTheResultType() throws SQLException {
        try (Connection c = connect("prepareThreshold=1");
                Statement ddl = c.createStatement()) {
            ddl.execute("DROP TABLE IF EXISTS shape");
            ddl.execute("CREATE TABLE shape (id int)");
            ddl.execute("INSERT INTO shape VALUES (1)");
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM shape WHERE id = ?")) {
                for (int round = 0; round < 3; round++) {
                    ps.setInt(1, 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(round + 1, rs.getMetaData().getColumnCount());
                    }
                    ddl.execute("ALTER TABLE shape ADD COLUMN c" + round + " int");
                }
            }
        }
    }
}
