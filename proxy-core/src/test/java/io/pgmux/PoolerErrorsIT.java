package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.quote;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The errors pgmux makes itself: the SQLSTATE and message a client sees, and whether its connection lives on. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PoolerErrorsIT {
    private static final String USER = "it_err";
    private static final String DB = "it_err";
    private static final String PASSWORD = "err-pw";
    /** One server and a short wait for it. */
    private static final String BUSY_DB = "it_err_busy";
    /** Routes to a port where nothing listens. */
    private static final String DOWN_DB = "it_err_down";
    /** Routes to PostgreSQL with a server login it refuses. */
    private static final String REFUSED_DB = "it_err_refused";

    private static int closedPort;

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        closedPort = closedPort();
        return "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n"
                + database(DB, pg, "")
                + database(BUSY_DB, pg, "dbname = " + quote(DB) + ", pool { size = 1, query-wait-timeout = 1s }")
                + quote(DOWN_DB) + " { host = \"127.0.0.1\", port = " + closedPort + " }\n"
                + database(
                        REFUSED_DB, pg, "dbname = " + quote(DB) + ", user = " + quote(USER) + ", password = \"nope\"")
                + "}";
    });

    private final TestPostgres pg = pgmux.postgres();

    @Test
    void wrongPasswordAndUnknownUserAreRefusedWith28P01() {
        SQLException wrong = assertThrows(SQLException.class, () -> pgmux.connect(DB, USER, "not-the-password"));
        assertEquals("28P01", wrong.getSQLState(), wrong.toString());
        assertTrue(
                wrong.getMessage().contains("password authentication failed for user \"" + USER + "\""),
                wrong.getMessage());

        SQLException unknown = assertThrows(SQLException.class, () -> pgmux.connect(DB, "it_err_nobody", PASSWORD));
        assertEquals("28P01", unknown.getSQLState(), unknown.toString());
    }

    @Test
    void unknownDatabaseWithoutFallbackIsRefusedWith3D000() {
        SQLException e = assertThrows(SQLException.class, () -> pgmux.connect("it_err_nowhere", USER, PASSWORD));
        assertEquals("3D000", e.getSQLState(), e.toString());
        assertTrue(e.getMessage().contains("database \"it_err_nowhere\" does not exist"), e.getMessage());
    }

    @Test
    void noServerWithinQueryWaitTimeoutIs08P01AndTheClientMayRetry() throws Exception {
        // pgjdbc runs SETs right after login, which need a server: both clients log in before the only one is taken.
        try (Connection holder = pgmux.connect(BUSY_DB, USER, PASSWORD, "prepareThreshold=0");
                Connection waiter = pgmux.connect(BUSY_DB, USER, PASSWORD, "prepareThreshold=0");
                Statement holding = holder.createStatement();
                Statement waiting = waiter.createStatement()) {
            holder.setAutoCommit(false);
            holding.execute("SELECT pg_backend_pid()");

            long start = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, () -> waiting.executeQuery("SELECT 1"));
            long waitedMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals("08P01", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("query_wait_timeout"), e.getMessage());
            assertTrue(waitedMillis >= 900 && waitedMillis < 5_000, "waited " + waitedMillis + " ms for 1 s");

            holder.commit();
            assertEquals(1, queryInt(waiting, "SELECT 1"), "the same client, retrying once the server is free");
        }
    }

    @Test
    void moreClientsThanMaxClientConnectionsAreRefusedWith53300() throws Exception {
        String settings = "pool.max-client-connections = 3\n"
                + "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n" + database(DB, pg, "") + "}";
        try (TestProxy proxy = TestProxy.start(settings)) {
            List<Connection> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    clients.add(proxy.connect(DB, USER, PASSWORD));
                }
                SQLException e = assertThrows(SQLException.class, () -> proxy.connect(DB, USER, PASSWORD));
                assertEquals("53300", e.getSQLState(), e.toString());
                assertTrue(e.getMessage().contains("max-client-connections"), e.getMessage());
                for (Connection c : clients) {
                    try (Statement st = c.createStatement()) {
                        assertEquals(1, queryInt(st, "SELECT 1"), "the clients within the limit carry on");
                    }
                }
                clients.remove(0).close();
                // The slot frees once pgmux has seen the client go: a new one gets in within a bounded retry.
                Connection next = Await.until(
                        "a client to get the freed slot",
                        Duration.ofSeconds(10),
                        () -> {
                            try {
                                return proxy.connect(DB, USER, PASSWORD);
                            } catch (SQLException refused) {
                                return null;
                            }
                        },
                        c -> c != null);
                clients.add(next);
            } finally {
                for (Connection c : clients) {
                    c.close();
                }
            }
        }
    }

    @Test
    void unreachablePostgresIsReportedAtOnceWith08006() {
        for (int attempt = 1; attempt <= 2; attempt++) {
            long start = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, () -> pgmux.connect(DOWN_DB, USER, PASSWORD));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals("08006", e.getSQLState(), "attempt " + attempt + ": " + e);
            assertTrue(e.getMessage().contains(Integer.toString(closedPort)), "names the server: " + e.getMessage());
            assertTrue(millis < 10_000, "attempt " + attempt + " took " + millis + " ms");
        }
    }

    @Test
    void serverRefusingPgmuxsLoginIsReportedWith08006() {
        long start = System.nanoTime();
        SQLException e = assertThrows(SQLException.class, () -> pgmux.connect(REFUSED_DB, USER, PASSWORD));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals("08006", e.getSQLState(), e.toString());
        assertTrue(millis < 10_000, "took " + millis + " ms");
    }

    /** A port on 127.0.0.1 where nothing listens (it did a moment ago, for this JVM alone). */
    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
