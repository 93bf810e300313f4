package io.pgmux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.pgmux.testkit.TestPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGHUP to the shaded jar, run as {@code bin/pgmux} runs it: the edited config file is read again, a database added
 * to it becomes reachable, and an invalid edit is refused with a log line naming the key and the file's line while the
 * running configuration stays in force.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SighupReloadIT {
    private static final String USER = "it_sighup";
    private static final String DB = "it_sighup";
    private static final String DB2 = "it_sighup_two";
    private static final String PASSWORD = "sighup-pw";
    private static final Duration DEADLINE = Duration.ofSeconds(45);

    @Test
    void sighupReadsTheEditedConfigFileAndRefusesAnInvalidOne(@TempDir Path dir) throws Exception {
        // A child inherits an ignored SIGHUP (e.g. the build was started under nohup), and the JVM then keeps it
        // ignored: Main then logs a warning, but this test cannot reload by signal.
        assumeFalse(sighupIgnoredHere(), "SIGHUP is ignored in this build's process (started under nohup?)");
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        pg.createDatabase(DB2, USER);
        int port = PgmuxProcess.freePort();
        Path config = dir.resolve("pgmux.conf");
        Files.writeString(config, config(port, pg, 5, DB));
        try (PgmuxProcess pgmux = PgmuxProcess.start(dir, config, Map.of())) {
            assertEquals(1, selectOne(port, DB));
            assertEquals(
                    "3D000",
                    assertThrows(SQLException.class, () -> selectOne(port, DB2)).getSQLState());

            Files.writeString(config, config(port, pg, 5, DB, DB2));
            pgmux.signal("HUP");
            pgmux.awaitLog("the reload to be logged", "configuration reloaded: 2 database(s)", DEADLINE);
            assertEquals(1, selectOne(port, DB2));

            // pool.size is on line 4 of the file.
            Files.writeString(config, config(port, pg, -3, DB));
            pgmux.signal("HUP");
            pgmux.awaitLog("the refusal to be logged", "reload refused", DEADLINE);
            String refusal = pgmux.log()
                    .lines()
                    .filter(line -> line.contains("reload refused"))
                    .findFirst()
                    .orElseThrow();
            assertTrue(refusal.contains("pgmux.conf:4"), refusal);
            assertTrue(refusal.contains("pool.size"), refusal);
            assertTrue(refusal.contains("the running configuration stays in force"), refusal);
            assertEquals(1, selectOne(port, DB2), "the running configuration still has " + DB2);

            pgmux.stopAndExpectExitZero();
        }
    }

    /** Under nohup the JVM keeps SIGHUP ignored and a reload by signal cannot work: pgmux says so at start. */
    @Test
    void anIgnoredSighupIsReportedAtStartAndPgmuxServesAnyway(@TempDir Path dir) throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        int port = PgmuxProcess.freePort();
        Path config = dir.resolve("pgmux.conf");
        Files.writeString(config, config(port, pg, 5, DB));
        try (PgmuxProcess pgmux = PgmuxProcess.startWithSighupIgnored(dir, config, Map.of())) {
            pgmux.awaitLog("the ignored SIGHUP to be reported", "SIGHUP is ignored in this process", DEADLINE);
            assertTrue(pgmux.log().contains("use the admin console's RELOAD"), pgmux.log());
            assertEquals(1, selectOne(port, DB));
            pgmux.stopAndExpectExitZero();
        }
    }

    private static String config(int port, TestPostgres pg, int poolSize, String... databases) {
        StringBuilder entries = new StringBuilder();
        for (String db : databases) {
            entries.append("    \"")
                    .append(db)
                    .append("\" { host = \"")
                    .append(pg.host())
                    .append("\", port = ")
                    .append(pg.port())
                    .append(" }\n");
        }
        return "pgmux {\n  listen { host = \"127.0.0.1\", port = " + port + " }\n  metrics.enabled = false\n"
                + "  pool.size = " + poolSize + "\n"
                + "  shutdown-timeout = 5s\n"
                + "  auth.users { \"" + USER + "\" { password = \"" + PASSWORD + "\" } }\n"
                + "  databases {\n" + entries + "  }\n}\n";
    }

    private static int selectOne(int port, String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", USER);
        props.setProperty("password", PASSWORD);
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "30");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Bit 1 of SigIgn in /proc/self/status: SIGHUP is ignored here, and so in every process started from here. */
    private static boolean sighupIgnoredHere() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return false;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(
                                        line.substring("SigIgn:".length()).trim(), 16)
                                & 1L)
                        != 0;
            }
        }
        return false;
    }
}
