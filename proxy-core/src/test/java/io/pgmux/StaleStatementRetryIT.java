package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * After DDL changes a table under a prepared statement, PostgreSQL answers its next use with
 * "cached plan must not change result type" (0A000). Outside an explicit transaction pgmux
 * re-prepares and retries once a batch that describes its result, so a client that does not
 * retry by itself never sees the error; without a Describe (pgjdbc's re-executions) the client gets
 * the error, since it would otherwise read new rows with an old description; inside a transaction
 * the client gets it too; either way the stale statement is dropped.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StaleStatementRetryIT {
    private static final String DB = "it_stale";
    private static final String USER = "it_stale_user";
    private static final String PASSWORD = "it-stale-pw";

    private static byte[] parse(String name, String sql) {
        return new WireClient.Bytes().cstring(name).cstring(sql).int16(0).build();
    }

    private static byte[] bind(String statement) {
        return new WireClient.Bytes()
                .cstring("")
                .cstring(statement)
                .int16(0)
                .int16(0)
                .int16(0)
                .build();
    }

    private static byte[] execute() {
        return new WireClient.Bytes().cstring("").int32(0).build();
    }

    /** Bind + Describe (portal) + Execute + Sync of a named statement; the replies up to ReadyForQuery. */
    private static List<WireClient.Message> run(WireClient client, String statement) throws IOException {
        client.sendTyped('B', bind(statement));
        client.sendTyped('D', new WireClient.Bytes().int8('P').cstring("").build());
        client.sendTyped('E', execute());
        client.sendTyped('S', new byte[0]);
        return client.readUntilReady();
    }

    private static int columnsOfFirstRow(List<WireClient.Message> replies) {
        WireClient.Message row = replies.stream()
                .filter(m -> m.type() == 'D')
                .findFirst()
                .orElseThrow(() -> new AssertionError("no DataRow in " + replies));
        return ((row.body()[0] & 0xff) << 8) | (row.body()[1] & 0xff);
    }

    @Test
    void staleStatementIsRePreparedAndRetriedOutsideTransactions() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        try (Connection direct = pg.connect(DB);
                Statement ddl = direct.createStatement()) {
            ddl.execute("DROP TABLE IF EXISTS shape");
            ddl.execute("CREATE TABLE shape (a int)");
            ddl.execute("INSERT INTO shape VALUES (1)");
            ddl.execute("GRANT ALL ON shape TO " + USER);
        }
        try (TestProxy proxy = TestProxy.start("auth { type = plain, users { " + user(USER, PASSWORD) + " } }\n"
                        + "pool { size = 1 }\n"
                        + "databases { " + database(DB, pg, "") + " }");
                WireClient client = WireClient.login(proxy.port(), DB, USER, PASSWORD);
                Connection direct = pg.connect(DB);
                Statement ddl = direct.createStatement()) {
            client.sendTyped('P', parse("s1", "SELECT * FROM shape"));
            client.sendTyped('S', new byte[0]);
            client.readUntilReady();
            assertEquals(1, columnsOfFirstRow(run(client, "s1")));

            ddl.execute("ALTER TABLE shape ADD COLUMN b int");
            List<WireClient.Message> afterDdl = run(client, "s1");
            assertTrue(afterDdl.stream().noneMatch(m -> m.type() == 'E'), "no error reached the client: " + afterDdl);
            assertEquals(2, columnsOfFirstRow(afterDdl), "the re-prepared statement sees the new column");

            // Inside a transaction the client gets the error, and the stale statement is dropped.
            client.query("BEGIN");
            client.readUntilReady();
            ddl.execute("ALTER TABLE shape ADD COLUMN c int");
            List<WireClient.Message> inTransaction = run(client, "s1");
            WireClient.Message error = inTransaction.stream()
                    .filter(m -> m.type() == 'E')
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("0A000 expected in a transaction: " + inTransaction));
            assertEquals("0A000", error.fields().get('C'));
            client.query("ROLLBACK");
            client.readUntilReady();
            assertEquals(3, columnsOfFirstRow(run(client, "s1")), "prepared afresh after the stale one was dropped");

            // Without a Describe the client must learn of the change: the error reaches it.
            ddl.execute("ALTER TABLE shape ADD COLUMN d int");
            client.sendTyped('B', bind("s1"));
            client.sendTyped('E', execute());
            client.sendTyped('S', new byte[0]);
            List<WireClient.Message> undescribed = client.readUntilReady();
            assertTrue(
                    undescribed.stream()
                            .anyMatch(m ->
                                    m.type() == 'E' && "0A000".equals(m.fields().get('C'))),
                    "0A000 reaches a client that did not describe: " + undescribed);
            assertEquals(4, columnsOfFirstRow(run(client, "s1")));
        }
    }
}
