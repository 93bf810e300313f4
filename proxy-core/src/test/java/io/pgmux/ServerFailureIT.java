package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.pool.Pool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL, or the network to it, failing under pgmux (a {@link FaultRelay} in between): clients get 08006 as an ERROR,
 * keep their connection to pgmux, and carry on once PostgreSQL is back.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerFailureIT {
    private static final String USER = "it_fail";
    private static final String DB = "it_fail";
    private static final String PASSWORD = "fail-pw";

    @RegisterExtension
    static final PgmuxExtension pgmux = PgmuxExtension.withRelay((pg, relay) -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        return "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n"
                + relay.database(DB, "pool { size = 2, query-wait-timeout = 10s, server-login-retry = 1s }")
                + "}";
    });

    @Test
    void serverLostInsideATransactionIs08006AndTheClientCarriesOn() throws Exception {
        try (Connection setup = pgmux.postgres().connect(DB, USER, PASSWORD);
                Statement st = setup.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS lost (n int)");
            st.execute("TRUNCATE lost");
        }
        try (Connection c = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("INSERT INTO lost VALUES (1)");
            pgmux.relay().resetAll();
            Pool pool = pgmux.proxy().pool(DB, USER);
            Await.until(
                    "pgmux to notice its servers are gone",
                    Duration.ofSeconds(10),
                    () -> pool.counts().open() == 0);

            SQLException e = assertThrows(SQLException.class, () -> st.execute("INSERT INTO lost VALUES (2)"));
            assertEquals("08006", e.getSQLState(), e.toString());
            c.rollback();

            // The connection to pgmux lives on; the next transaction gets a new server.
            st.execute("INSERT INTO lost VALUES (3)");
            c.commit();
        }
        try (Connection c = pgmux.postgres().connect(DB);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT string_agg(n::text, ',') FROM lost")) {
            rs.next();
            assertEquals("3", rs.getString(1), "only the transaction after the failure committed");
        }
    }

    @Test
    void postgresDownGives08006QuicklyAndPgmuxRecoversWhenItIsBack() throws Exception {
        try (Connection c = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = c.createStatement()) {
            assertEquals(1, queryInt(st, "SELECT 1"));
            // PostgreSQL's host goes away: its connections drop and new ones are refused.
            pgmux.relay().refuseNew();
            pgmux.relay().resetAll();
            try {
                Pool pool = pgmux.proxy().pool(DB, USER);
                Await.until(
                        "pgmux to notice its servers are gone",
                        Duration.ofSeconds(10),
                        () -> pool.counts().open() == 0);
                for (int attempt = 1; attempt <= 2; attempt++) {
                    long start = System.nanoTime();
                    SQLException e = assertThrows(SQLException.class, () -> queryInt(st, "SELECT 1"));
                    long millis = (System.nanoTime() - start) / 1_000_000;
                    assertEquals("08006", e.getSQLState(), "attempt " + attempt + ": " + e);
                    assertTrue(millis < 10_000, "attempt " + attempt + " took " + millis + " ms");
                }
            } finally {
                pgmux.relay().pass();
            }
            // server-login-retry is 1 s: the same client gets through again within a few seconds.
            Await.until("the client's queries to work again", Duration.ofSeconds(15), () -> {
                try {
                    return queryInt(st, "SELECT 1") == 1;
                } catch (SQLException e) {
                    return false;
                }
            });
        }
        try (Connection c = pgmux.connect(DB, USER, PASSWORD);
                Statement st = c.createStatement()) {
            assertEquals(2, queryInt(st, "SELECT 2"), "a new client too");
        }
    }
}
