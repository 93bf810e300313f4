package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * server-check-query: a server idle longer than server-check-delay is checked before a client gets
 * it, so a server that died quietly while idle is replaced instead of failing the client's query.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerCheckIT {
    private static final String DB = "it_check";
    private static final String USER = "it_check_user";
    private static final String PASSWORD = "it-check-pw";

    @Test
    void serverKilledWhileIdleIsCheckedAndReplacedBeforeUse() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        try (TestProxy proxy = TestProxy.start("auth.users { " + user(USER, PASSWORD) + " }\n"
                        + "pool { size = 1, server-check-delay = 0s }\n"
                        + "databases { " + database(DB, pg, "") + " }");
                Connection client = proxy.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                Connection direct = pg.connect(DB)) {
            for (int round = 0; round < 3; round++) {
                int pid = queryInt(client, "SELECT pg_backend_pid()");
                try (Statement s = direct.createStatement()) {
                    s.execute("SELECT pg_terminate_backend(" + pid + ")");
                }
                // At once: pgmux may not have noticed yet; its check before use does.
                int next = queryInt(client, "SELECT pg_backend_pid()");
                assertNotEquals(pid, next, "a fresh server replaced the killed one");
                assertEquals(1, queryInt(client, "SELECT 1"));
            }
        }
    }
}
