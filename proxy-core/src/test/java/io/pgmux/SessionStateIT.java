package io.pgmux;

import static io.pgmux.Sql.queryString;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Session state in transaction mode: each client sees the settings of its own session, and what one client SET never
 * shows in another client's transactions, although they take turns on the same servers.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SessionStateIT {
    private static final String USER = "it_state";
    private static final String DB = "it_state";
    private static final String PASSWORD = "state-pw";

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        // Two servers for three clients: some take turns on the same server. A client pinned to one server by its
        // session state still leaves a server to the others.
        return "auth.users {\n" + user(USER, PASSWORD) + "}\n" + "databases {\n"
                + database(DB, pg, "pool { size = 2, query-wait-timeout = 10s }") + "}";
    });

    @Test
    void eachClientSeesItsOwnApplicationName() throws SQLException {
        // pgjdbc sends ApplicationName with SET right after login, on whichever server pgmux lends it.
        List<String> names = List.of("alpha", "beta", "gamma");
        try (Connection alpha = pgmux.connect(DB, USER, PASSWORD, "ApplicationName=alpha");
                Connection beta = pgmux.connect(DB, USER, PASSWORD, "ApplicationName=beta");
                Connection gamma = pgmux.connect(DB, USER, PASSWORD, "ApplicationName=gamma")) {
            List<Connection> clients = List.of(alpha, beta, gamma);
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < clients.size(); i++) {
                    assertEquals(names.get(i), show(clients.get(i), "application_name"), "round " + round);
                }
            }
        }
    }

    @Test
    void sessionSetOfOneClientNeverReachesAnother() throws SQLException {
        try (Connection other = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0")) {
            String defaultTimeout = show(other, "statement_timeout");
            try (Connection setter = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0")) {
                try (Statement st = setter.createStatement()) {
                    st.execute("SET statement_timeout = '4321ms'");
                }
                for (int round = 0; round < 3; round++) {
                    assertEquals("4321ms", show(setter, "statement_timeout"), "the client that SET it, round " + round);
                    assertEquals(defaultTimeout, show(other, "statement_timeout"), "another client, round " + round);
                }
            }
            // The setter is gone: its server may now serve the other client, without the setting.
            for (int round = 0; round < 4; round++) {
                assertEquals(defaultTimeout, show(other, "statement_timeout"), "after the setter left, round " + round);
            }
        }
    }

    private static String show(Connection c, String setting) throws SQLException {
        return queryString(c, "SHOW " + setting);
    }
}
