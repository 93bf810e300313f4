package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Server connections idle longer than server-idle-timeout are closed, down to min-size and never below. */
class IdleReapingIT {
    private static final String USER = "it_reap";
    private static final String DB = "it_reap";
    private static final String PASSWORD = "reap-pw";
    private static final int BURST = 5;

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        return "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n"
                + database(DB, pg, "pool { size = 10, min-size = 1, server-idle-timeout = 2s }")
                + "}";
    });

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void idleServersAboveMinSizeCloseAfterTheBurst() throws Exception {
        TestPostgres pg = pgmux.postgres();
        List<Connection> clients = new ArrayList<>();
        try {
            // Every client holds a transaction open at the same time, so each needs a server of its own.
            for (int i = 0; i < BURST; i++) {
                Connection c = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                clients.add(c);
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT pg_backend_pid()");
                }
            }
            assertEquals(BURST, pg.countConnections(USER), "one server per client in a transaction");
            for (Connection c : clients) {
                c.commit();
            }
        } finally {
            for (Connection c : clients) {
                c.close();
            }
        }

        long reapStart = System.nanoTime();
        Await.until(
                "servers to be reaped down to min-size 1",
                Duration.ofSeconds(15),
                () -> pg.countConnections(USER) == 1);
        long reapedAfterMillis = (System.nanoTime() - reapStart) / 1_000_000;
        assertTrue(reapedAfterMillis >= 1_000, "reaped after " + reapedAfterMillis + " ms, idle timeout is 2 s");

        // Two more idle timeouts: min-size keeps one server open all along.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < until) {
            assertEquals(1, pg.countConnections(USER), "servers kept open at min-size 1");
            Await.pause(100);
        }
        assertEquals(1, pgmux.proxy().pool(DB, USER).counts().open());

        // The server kept warm still serves.
        try (Connection c = pgmux.connect(DB, USER, PASSWORD);
                Statement st = c.createStatement()) {
            assertTrue(st.execute("SELECT 1"));
        }
    }
}
