package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;

/**
 * The same scenarios against two PostgreSQL major versions: SCRAM login, transaction pooling,
 * named statements moving between servers, settings restored per client, COPY both ways.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MajorVersionsIT {
    private static final String DB = "it_versions";
    private static final String USER = "it_versions_user";
    private static final String PASSWORD = "it-versions-pw";

    @ParameterizedTest(name = "PostgreSQL {0}")
    @ValueSource(ints = {14, 17})
    void coreScenariosWork(int major) throws Exception {
        TestPostgres pg =
                major == TestPostgres.shared().majorVersion() ? TestPostgres.shared() : TestPostgres.start(major);
        try (TestProxy proxy = TestProxy.start("auth.users { " + user(USER, PASSWORD) + " }\n"
                + "pool { size = 2 }\n"
                + "databases { " + database(DB, pg, "") + " }")) {
            pg.createUser(USER, PASSWORD);
            pg.createDatabase(DB, USER);
            try (Connection a = proxy.connect(DB, USER, PASSWORD, "prepareThreshold=1");
                    Connection b = proxy.connect(DB, USER, PASSWORD, "prepareThreshold=1");
                    Statement sa = a.createStatement();
                    Statement sb = b.createStatement()) {
                try (ResultSet rs = sa.executeQuery("SHOW server_version_num")) {
                    rs.next();
                    assertTrue(rs.getString(1).startsWith(String.valueOf(major)), rs.getString(1));
                }
                sa.execute("DROP TABLE IF EXISTS versions_t");
                sa.execute("CREATE TABLE versions_t (id int, note text)");
                sa.execute("SET TimeZone = 'Asia/Tokyo'");
                try (PreparedStatement insert = a.prepareStatement("INSERT INTO versions_t VALUES (?, ?)")) {
                    for (int i = 0; i < 20; i++) {
                        insert.setInt(1, i);
                        insert.setString(2, "n" + i);
                        insert.executeUpdate();
                        // b keeps the other server busy in between, so a's transactions move around
                        try (ResultSet rs = sb.executeQuery("SHOW TimeZone")) {
                            rs.next();
                            assertTrue(!rs.getString(1).equals("Asia/Tokyo"));
                        }
                    }
                }
                try (ResultSet rs = sa.executeQuery("SHOW TimeZone")) {
                    rs.next();
                    assertEquals("Asia/Tokyo", rs.getString(1));
                }
                long copied = a.unwrap(PGConnection.class)
                        .getCopyAPI()
                        .copyIn("COPY versions_t FROM STDIN", new StringReader("100\tc1\n101\tc2\n"));
                assertEquals(2, copied);
                java.io.StringWriter out = new java.io.StringWriter();
                b.unwrap(PGConnection.class)
                        .getCopyAPI()
                        .copyOut("COPY (SELECT count(*) FROM versions_t) TO STDOUT", out);
                assertEquals("22", out.toString().trim());
            }
        } finally {
            if (pg != TestPostgres.shared()) {
                pg.close();
            }
        }
    }
}
