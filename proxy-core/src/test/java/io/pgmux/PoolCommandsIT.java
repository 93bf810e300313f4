package io.pgmux;

import static io.pgmux.Sql.queryLong;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The console's PAUSE, RESUME, RECONNECT and KILL, with PgBouncer's semantics, against real PostgreSQL. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PoolCommandsIT {
    private static final String APP = "it_poolcmd_app";
    private static final String PW = "app-pw";
    private static final String ADMIN = "pgmux";
    private static final String ADMIN_PW = "admin-pw";
    private static final String DB = "it_poolcmd";
    private static final ExecutorService threads = Executors.newCachedThreadPool();

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(APP, PW);
        pg.createDatabase(DB, APP);
        return "admin.users = [\"" + ADMIN + "\"]\n" + "auth.users {\n" + user(APP, PW) + user(ADMIN, ADMIN_PW) + "}\n"
                + "databases {\n" + database(DB, pg, "pool { size = 2 }") + "}";
    });

    /** A failed test must not leave the database paused for the next one. */
    @AfterEach
    void resumeIfPaused() throws SQLException {
        if (pgmux.server().registry().isPaused(DB)) {
            console("RESUME");
        }
    }

    @AfterAll
    static void stopThreads() {
        threads.shutdownNow();
    }

    private static Connection admin(String mode) throws SQLException {
        return pgmux.connect("pgmux", ADMIN, ADMIN_PW, "preferQueryMode=" + mode);
    }

    private static Connection app() throws SQLException {
        return pgmux.connect(DB, APP, PW);
    }

    private static void console(String command) throws SQLException {
        try (Connection c = admin("simple");
                Statement st = c.createStatement()) {
            st.execute(command);
        }
    }

    private static CompletableFuture<Void> consoleLater(String command, String mode) {
        return CompletableFuture.runAsync(
                () -> {
                    try (Connection c = admin(mode);
                            Statement st = c.createStatement()) {
                        st.execute(command);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                },
                threads);
    }

    /** One SHOW row (column name → text) whose {@code column} is {@code value}, read on a console connection of its own. */
    private static Map<String, String> showRow(String command, String column, String value) throws SQLException {
        try (Connection c = admin("simple")) {
            return ConsoleRows.showRow(c, command, column, value);
        }
    }

    /** Backends PostgreSQL has for the app user, excluding this probe's own. */
    private static int servers() {
        return pgmux.postgres().countConnections(APP);
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void pauseWaitsForTheRunningTransactionAndHoldsNewOnesUntilResume(String mode) throws Exception {
        try (Connection holder = app()) {
            holder.setAutoCommit(false);
            assertEquals(1, queryLong(holder, "SELECT 1"));

            CompletableFuture<Void> pause = consoleLater("PAUSE " + DB, mode);
            Await.until("SHOW DATABASES to show the database paused", Duration.ofSeconds(20), () -> uncheckedShow(
                            "SHOW DATABASES", "name", DB)
                    .get("paused")
                    .equals("1"));
            Await.pause(300);
            assertFalse(pause.isDone(), "PAUSE answers only once the transaction has ended");

            assertEquals(2, queryLong(holder, "SELECT 2"));
            holder.commit();
            pause.get(30, TimeUnit.SECONDS);
            Await.until("every server of the paused pool to close", Duration.ofSeconds(20), () -> servers() == 0);

            CompletableFuture<Long> query = connectAndQueryLater("SELECT 42");
            try {
                Await.until(
                        "SHOW POOLS to show a client waiting, with its wait in maxwait", Duration.ofSeconds(20), () -> {
                            Map<String, String> pool = uncheckedShow("SHOW POOLS", "database", DB);
                            return pool.get("cl_waiting").equals("1")
                                    && (Long.parseLong(pool.get("maxwait")) > 0
                                            || Long.parseLong(pool.get("maxwait_us")) > 0);
                        });
                assertFalse(query.isDone(), "a paused pool runs nothing");
                assertEquals(0, servers());
            } finally {
                console("RESUME " + DB);
            }
            assertEquals(42, query.get(30, TimeUnit.SECONDS));
        }
        assertEquals("0", showRow("SHOW DATABASES", "name", DB).get("paused"));
        assertEquals("0", showRow("SHOW POOLS", "database", DB).get("maxwait"));
    }

    @Test
    void pauseAndResumeRefuseWhatMakesNoSense() throws Exception {
        console("PAUSE " + DB);
        try {
            SQLException twice = assertThrows(SQLException.class, () -> console("PAUSE " + DB));
            assertEquals("55006", twice.getSQLState());
            assertTrue(twice.getMessage().contains("database " + DB + " is already paused"), twice.getMessage());
        } finally {
            console("RESUME " + DB);
        }
        SQLException notPaused = assertThrows(SQLException.class, () -> console("RESUME " + DB));
        assertEquals("55000", notPaused.getSQLState());
        assertTrue(notPaused.getMessage().contains("is not paused"), notPaused.getMessage());

        for (String command : List.of("PAUSE nosuchdb", "RESUME nosuchdb", "RECONNECT nosuchdb", "KILL nosuchdb")) {
            SQLException unknown = assertThrows(SQLException.class, () -> console(command));
            assertEquals("3D000", unknown.getSQLState(), command);
            assertTrue(unknown.getMessage().contains("no such database: nosuchdb"), unknown.getMessage());
        }
        SQLException noName = assertThrows(SQLException.class, () -> console("KILL"));
        assertEquals("42601", noName.getSQLState());

        try (Connection app = app()) {
            assertEquals(1, queryLong(app, "SELECT 1"));
        }
    }

    @Test
    void pauseOfEverythingAndResumeOfEverything() throws Exception {
        console("PAUSE");
        try {
            SQLException twice = assertThrows(SQLException.class, () -> console("PAUSE"));
            assertTrue(twice.getMessage().contains("already suspended/paused"), twice.getMessage());
            assertEquals("1", showRow("SHOW DATABASES", "name", DB).get("paused"));
        } finally {
            console("RESUME");
        }
        try (Connection app = app()) {
            assertEquals(1, queryLong(app, "SELECT 1"));
        }
    }

    @Test
    void reconnectReplacesServersAsTheyAreReleasedAndClientsNoticeNothing() throws Exception {
        try (Connection c = app()) {
            c.setAutoCommit(false);
            long before = queryLong(c, "SELECT pg_backend_pid()");

            console("RECONNECT " + DB);
            assertEquals(before, queryLong(c, "SELECT pg_backend_pid()"), "the running transaction keeps its server");
            c.commit();

            Await.until("the old backend to be gone", Duration.ofSeconds(20), () -> !backendAlive(before));
            c.setAutoCommit(true);
            for (int i = 0; i < 5; i++) {
                assertNotEquals(before, queryLong(c, "SELECT pg_backend_pid()"));
            }
        }
    }

    @Test
    void killClosesClientsAndServersAtOnceAndHoldsNewClientsUntilResume() throws Exception {
        try (Connection idle = app();
                Connection inTransaction = app()) {
            assertEquals(1, queryLong(idle, "SELECT 1"));
            inTransaction.setAutoCommit(false);
            assertEquals(1, queryLong(inTransaction, "SELECT 1"));

            console("KILL " + DB);

            for (Connection killed : List.of(idle, inTransaction)) {
                SQLException e = assertThrows(SQLException.class, () -> queryLong(killed, "SELECT 1"));
                assertTrue(List.of("08P01", "08006").contains(e.getSQLState()), e.getSQLState() + " " + e.getMessage());
            }
            Await.until("the killed database's servers to close", Duration.ofSeconds(20), () -> servers() == 0);
            assertEquals("1", showRow("SHOW DATABASES", "name", DB).get("paused"));

            CompletableFuture<Long> newcomer = connectAndQueryLater("SELECT 7");
            Await.until(
                    "the new client to wait", Duration.ofSeconds(20), () -> uncheckedShow("SHOW POOLS", "database", DB)
                            .get("cl_waiting")
                            .equals("1"));
            assertFalse(newcomer.isDone());
            console("RESUME " + DB);
            assertEquals(7, newcomer.get(30, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        }
    }

    /** A new app client that runs {@code sql}, on a thread of its own: pgjdbc's login runs a query, so it may wait. */
    private static CompletableFuture<Long> connectAndQueryLater(String sql) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try (Connection c = app()) {
                        return queryLong(c, sql);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                },
                threads);
    }

    private static Map<String, String> uncheckedShow(String command, String column, String value) {
        try {
            return showRow(command, column, value);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean backendAlive(long pid) {
        try (Connection c = pgmux.postgres().connect("postgres");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)) {
            rs.next();
            return rs.getInt(1) > 0;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
