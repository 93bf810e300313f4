package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static io.pgmux.WireClient.cstring;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pgmux.WireClient.Bytes;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Random but well-framed sequences of frontend messages after login (simple and extended queries, transactions,
 * COPY, statements and portals that exist or not, Sync and Flush in odd places), each on a fresh connection that
 * then closes without Terminate. Whatever PostgreSQL makes of them, pgmux must stay in step with it: a final Query
 * always gets its answer (no hang), no error is an internal one (XX000) or logged as an ERROR, and afterwards no
 * server is leased, in a transaction, holding a portal or running something. Seeded, so a failure names its
 * sequence and can be replayed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProtocolSequenceFuzzIT {
    private static final String USER = "it_seq";
    private static final String DB = "it_seq";
    private static final String PASSWORD = "seq-pw";
    /** Replay or vary with -Dpgmux.fuzz.seed=N; run longer with -Dpgmux.fuzz.sequences=N. */
    private static final long SEED = Long.getLong("pgmux.fuzz.seed", 0x5e9_f022L);

    private static final int SEQUENCES = Integer.getInteger("pgmux.fuzz.sequences", 40);
    private static final Duration ANSWER_DEADLINE = Duration.ofSeconds(5);

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        return "auth.type = plain\n"
                + "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n" + database(DB, pg, "pool { size = 2, query-wait-timeout = 10s }") + "}";
    });

    private static final String[] QUERIES = {
        "SELECT 1",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SELECT 1/0",
        "",
        "COPY seq_sink FROM STDIN",
        "COPY (SELECT 1) TO STDOUT",
        "INSERT INTO seq_sink VALUES (1)",
        "BEGIN; INSERT INTO seq_sink VALUES (2)",
        "SELECT pg_sleep(0.01)",
        "SET statement_timeout = '5s'",
        "PREPARE q1 AS SELECT 1",
        "EXECUTE q1",
        "DEALLOCATE q1"
    };
    private static final String[] STATEMENT_SQL = {
        "SELECT 1",
        "SELECT $1::int",
        "BEGIN",
        "COMMIT",
        "SELECT 1/0",
        "COPY seq_sink FROM STDIN",
        "SELECT generate_series(1, 3)"
    };
    private static final String[] STATEMENTS = {"", "s1", "s2", "nope"};
    private static final String[] PORTALS = {"", "p1"};

    @BeforeAll
    static void createTable() throws SQLException {
        try (Connection c = pgmux.postgres().connect(DB, USER, PASSWORD);
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS seq_sink (n int)");
        }
    }

    @Test
    void randomMessageSequencesNeverLeavePgmuxOutOfStep() throws Exception {
        Random random = new Random(SEED);
        try (LogCapture log = LogCapture.pgmux()) {
            for (int i = 0; i < SEQUENCES; i++) {
                List<String> sequence = new ArrayList<>();
                runSequence(random, i, sequence);
                String what = "sequence #" + i + " (seed " + SEED + "): " + sequence;
                assertEquals(List.of(), log.errors(), "pgmux logged errors after " + what);
                assertServersClean(what);
            }
        }
    }

    private static void runSequence(Random random, int index, List<String> sequence) throws IOException {
        try (WireClient client = WireClient.login(pgmux.port(), DB, USER, PASSWORD)) {
            int length = 1 + random.nextInt(12);
            for (int m = 0; m < length; m++) {
                sequence.add(sendRandomMessage(client, random));
            }
            // Whatever state that left, a Sync, a ROLLBACK and a Query must come back to a known answer.
            String marker = "done-" + index;
            client.sendTyped('S', new byte[0]);
            sequence.add("Sync");
            askForMarker(client, marker, sequence, "");
            awaitMarker(client, marker, sequence);
        }
    }

    /** Reads until the DataRow with {@code marker} and the ReadyForQuery after it, or until pgmux closes. */
    private static void awaitMarker(WireClient client, String marker, List<String> sequence) throws IOException {
        long deadline = System.nanoTime() + ANSWER_DEADLINE.toNanos();
        boolean seen = false;
        boolean serverLost = false;
        List<WireClient.Message> received = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            WireClient.Message m;
            try {
                m = client.read();
                received.add(m);
            } catch (EOFException | SocketException closed) {
                // PostgreSQL or pgmux ended the session over a protocol error: allowed, checked below.
                return;
            } catch (SocketTimeoutException e) {
                break;
            }
            if (m.type() == 'E') {
                String sqlState = m.fields().get('C');
                assertTrue(!"XX000".equals(sqlState), () -> "internal error " + m + " for " + sequence);
                // PostgreSQL ended the server's session (e.g. "protocol synchronization was lost"): pgmux answers
                // what was outstanding on it with 08006 and ReadyForQuery, our Query included, and the client
                // goes on, on another server. Ask again once that is over.
                serverLost |= "08006".equals(sqlState);
            }
            if (m.type() == 'D' && new String(m.body(), StandardCharsets.UTF_8).contains(marker)) {
                seen = true;
            }
            if (m.type() == 'Z' && seen) {
                return;
            }
            if (m.type() == 'Z' && (serverLost || m.body()[0] == 'E')) {
                // Our ROLLBACK was taken by an aborted COPY, or the server went: ask again.
                serverLost = false;
                askForMarker(client, marker, sequence, " again");
            }
            if (m.type() == 'G') {
                // COPY FROM STDIN began (from an Execute the Sync did not end): end it so that the Query can run.
                client.sendTyped('c', new byte[0]);
                client.sendTyped('S', new byte[0]);
                askForMarker(client, marker, sequence, " after CopyInResponse");
            }
        }
        fail("no answer to the final Query within " + ANSWER_DEADLINE + " for " + sequence + "; received " + received);
    }

    private static void askForMarker(WireClient client, String marker, List<String> sequence, String why)
            throws IOException {
        client.query("ROLLBACK");
        client.query("SELECT '" + marker + "'");
        sequence.add("Query(ROLLBACK), Query(SELECT '" + marker + "')" + why);
    }

    private static String sendRandomMessage(WireClient client, Random random) throws IOException {
        switch (random.nextInt(12)) {
            case 0, 1 -> {
                String sql = pick(random, QUERIES);
                client.query(sql);
                return "Query(" + sql + ")";
            }
            case 2, 3 -> {
                String name = pick(random, STATEMENTS);
                String sql = pick(random, STATEMENT_SQL);
                client.sendTyped(
                        'P', new Bytes().cstring(name).cstring(sql).int16(0).build());
                return "Parse(" + name + ", " + sql + ")";
            }
            case 4, 5 -> {
                String portal = pick(random, PORTALS);
                String statement = pick(random, STATEMENTS);
                boolean withParameter = random.nextBoolean();
                Bytes bind = new Bytes().cstring(portal).cstring(statement).int16(0);
                if (withParameter) {
                    bind.int16(1).int32(1).bytes("7".getBytes(StandardCharsets.US_ASCII));
                } else {
                    bind.int16(0);
                }
                client.sendTyped('B', bind.int16(0).build());
                return "Bind(" + portal + ", " + statement + (withParameter ? ", 7)" : ")");
            }
            case 6, 7 -> {
                String portal = pick(random, PORTALS);
                int maxRows = random.nextInt(3);
                client.sendTyped('E', new Bytes().cstring(portal).int32(maxRows).build());
                return "Execute(" + portal + ", " + maxRows + ")";
            }
            case 8 -> {
                char kind = random.nextBoolean() ? 'S' : 'P';
                String name = kind == 'S' ? pick(random, STATEMENTS) : pick(random, PORTALS);
                char type = random.nextBoolean() ? 'D' : 'C';
                client.sendTyped(type, new Bytes().int8(kind).cstring(name).build());
                return (type == 'D' ? "Describe(" : "Close(") + kind + ", " + name + ")";
            }
            case 9 -> {
                boolean sync = random.nextBoolean();
                client.sendTyped(sync ? 'S' : 'H', new byte[0]);
                return sync ? "Sync" : "Flush";
            }
            case 10 -> {
                client.sendTyped('d', "3\n".getBytes(StandardCharsets.US_ASCII));
                return "CopyData";
            }
            default -> {
                if (random.nextBoolean()) {
                    client.sendTyped('c', new byte[0]);
                    return "CopyDone";
                }
                client.sendTyped('f', cstring("fuzz"));
                return "CopyFail";
            }
        }
    }

    /** No leased server, and every server of the test user idle, outside a transaction and without portals. */
    private static void assertServersClean(String what) throws IOException {
        try {
            pgmux.proxy().awaitAllReleased();
            Await.until(
                    "no server of " + USER + " busy after " + what,
                    Duration.ofSeconds(10),
                    ProtocolSequenceFuzzIT::busyServers,
                    List::isEmpty);
            // pg_stat_activity above sees every server, idle ones included; this is what the next client sees.
            try (Connection c = pgmux.connect(DB, USER, PASSWORD, "preferQueryMode=simple");
                    Statement st = c.createStatement()) {
                for (int i = 0; i < 3; i++) {
                    try (ResultSet rs = st.executeQuery("SELECT pg_current_xact_id_if_assigned() IS NULL,"
                            + " now() = statement_timestamp(), (SELECT count(*) FROM pg_cursors)")) {
                        rs.next();
                        assertTrue(rs.getBoolean(1), "no transaction id left after " + what);
                        assertTrue(rs.getBoolean(2), "a transaction that began with this statement, after " + what);
                        assertEquals(0, rs.getInt(3), "portals left after " + what);
                    }
                }
            }
        } catch (SQLException e) {
            throw new AssertionError("a clean client failed after " + what + ": " + e, e);
        }
    }

    private static List<String> busyServers() {
        try (Connection c = pgmux.postgres().connect(DB);
                PreparedStatement ps = c.prepareStatement("SELECT pid || ' ' || state || ': ' || query"
                        + " FROM pg_stat_activity WHERE usename = ? AND backend_type = 'client backend'"
                        + " AND (state = 'active' OR state LIKE 'idle in transaction%')")) {
            ps.setString(1, USER);
            List<String> busy = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    busy.add(rs.getString(1));
                }
            }
            return busy;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pick(Random random, String[] options) {
        return options[random.nextInt(options.length)];
    }
}
