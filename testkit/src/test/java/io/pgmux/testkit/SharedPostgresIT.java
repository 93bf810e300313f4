package io.pgmux.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SharedPostgresIT {
    private final TestPostgres pg = TestPostgres.shared();

    @Test
    void sharedServerIsReusedAndSpeaksScramOverTcp() throws SQLException {
        assertSame(pg, TestPostgres.shared());
        if (pg.source() != TestPostgres.Source.EXTERNAL) {
            assertEquals(TestPostgres.defaultMajorVersion(), pg.majorVersion());
        }
        try (Connection c = pg.connect("postgres")) {
            assertEquals("1", query(c, "SELECT 1"));
            assertEquals("scram-sha-256", query(c, "SHOW password_encryption"));
            assertTrue(query(c, "SELECT rolpassword FROM pg_authid WHERE rolname = current_user")
                    .startsWith("SCRAM-SHA-256$"));
            assertEquals(
                    "scram-sha-256",
                    query(
                            c,
                            "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host'"
                                    + " AND user_name = '{all}' ORDER BY line_number LIMIT 1"));
            assertTrue(query(c, "SELECT inet_server_addr()").length() > 0, "a TCP connection");
        }
        assertEquals("jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/app", pg.jdbcUrl("app"));
    }

    @Test
    void createdUserLogsInAndWrongPasswordIsRejected() throws SQLException {
        pg.createUser("alice", "s3cret'x");
        pg.createUser("alice", "s3cret'x"); // idempotent
        pg.createDatabase("alicedb");
        pg.createDatabase("alicedb"); // idempotent
        try (Connection c = pg.connect("alicedb", "alice", "s3cret'x")) {
            assertEquals("alice", query(c, "SELECT current_user"));
            assertEquals("alicedb", query(c, "SELECT current_database()"));
        }
        try (Connection c = pg.connect("postgres")) {
            assertTrue(query(c, "SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'")
                    .startsWith("SCRAM-SHA-256$"));
        }
        SQLException e = assertThrows(SQLException.class, () -> pg.connect("alicedb", "alice", "wrong"));
        assertEquals("28P01", e.getSQLState());
    }

    @Test
    void createUserResetsThePassword() throws SQLException {
        pg.createUser("carol", "first");
        pg.createUser("carol", "second");
        pg.connect("postgres", "carol", "second").close();
        assertEquals(
                "28P01",
                assertThrows(SQLException.class, () -> pg.connect("postgres", "carol", "first"))
                        .getSQLState());
    }

    @Test
    void countsConnectionsOfAUser() throws Exception {
        pg.createUser("counted", "pw");
        assertEquals(0, pg.countConnections("counted"));
        List<Connection> open = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                open.add(pg.connect("postgres", "counted", "pw"));
            }
            assertEquals(3, pg.countConnections("counted"));
        } finally {
            for (Connection c : open) {
                c.close();
            }
        }
        awaitCount("counted", 0);
        // the superuser's own querying connection is not counted
        try (Connection c = pg.connect("postgres")) {
            assertTrue(c.isValid(5));
            assertEquals(1, pg.countConnections(pg.superUser()));
        }
    }

    @Test
    void md5UserHasAnMd5PasswordAndLogsInWithMd5() throws SQLException {
        assumeTrue(pg.source() != TestPostgres.Source.EXTERNAL, "pg_hba.conf of an external server is fixed");
        pg.createMd5User("bob_md5", "hunter2");
        pg.createMd5User("bob_md5", "hunter2"); // idempotent, no second pg_hba.conf line
        try (Connection c = pg.connect("postgres")) {
            assertTrue(query(c, "SELECT rolpassword FROM pg_authid WHERE rolname = 'bob_md5'")
                    .startsWith("md5"));
            assertEquals(
                    "1",
                    query(
                            c,
                            "SELECT count(*) FROM pg_hba_file_rules WHERE user_name = '{bob_md5}'"
                                    + " AND auth_method = 'md5'"));
        }
        try (Connection c = pg.connect("postgres", "bob_md5", "hunter2")) {
            assertEquals("bob_md5", query(c, "SELECT current_user"));
        }
        assertEquals(
                "28P01",
                assertThrows(SQLException.class, () -> pg.connect("postgres", "bob_md5", "nope"))
                        .getSQLState());
    }

    @Test
    void passwordUserLogsInWithCleartext() throws SQLException {
        assumeTrue(pg.source() != TestPostgres.Source.EXTERNAL, "pg_hba.conf of an external server is fixed");
        pg.createPasswordUser("dave_plain", "pw");
        try (Connection c = pg.connect("postgres", "dave_plain", "pw")) {
            assertEquals("dave_plain", query(c, "SELECT current_user"));
        }
        try (Connection c = pg.connect("postgres")) {
            assertEquals(
                    "password", query(c, "SELECT auth_method FROM pg_hba_file_rules WHERE user_name = '{dave_plain}'"));
        }
    }

    @Test
    void invalidHbaRuleIsRejectedAndTheFileRestored() throws SQLException {
        assumeTrue(pg.source() != TestPostgres.Source.EXTERNAL, "pg_hba.conf of an external server is fixed");
        assertThrows(IllegalArgumentException.class, () -> pg.addHbaRule("host all all nowhere bogus-method"));
        try (Connection c = pg.connect("postgres")) {
            assertEquals("0", query(c, "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL"));
        }
    }

    @Test
    void databaseOwnerCanCreateTables() throws SQLException {
        pg.createUser("demo", "demo");
        pg.createDatabase("demo", "demo");
        try (Connection c = pg.connect("demo", "demo", "demo");
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS t (id int)");
            st.execute("INSERT INTO t VALUES (1)");
        }
    }

    @Test
    void psqlWorksAgainstTheServer() throws Exception {
        String psql = pg.psqlPath();
        assumeTrue(psql != null, "no psql installed");
        ProcessBuilder pb = new ProcessBuilder(
                        psql,
                        "-h",
                        pg.host(),
                        "-p",
                        Integer.toString(pg.port()),
                        "-U",
                        pg.superUser(),
                        "-d",
                        "postgres",
                        "-tAc",
                        "SELECT 40 + 2")
                .redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", pg.superPassword());
        Process p = pb.start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(0, p.exitValue(), out);
        assertEquals("42", out);
    }

    @Test
    void closingTheSharedServerDoesNotStopIt() throws SQLException {
        pg.close();
        try (Connection c = pg.connect("postgres")) {
            assertEquals("1", query(c, "SELECT 1"));
        }
    }

    @Test
    void embeddedServerExposesItsDirectories() {
        assumeTrue(pg.source() == TestPostgres.Source.EMBEDDED);
        assertNotNull(pg.binDir());
        assertNotNull(pg.dataDir());
        assertTrue(new java.io.File(pg.binDir(), "postgres").canExecute());
    }

    @Test
    void dockerCheckIsCachedAndQuick() {
        Docker.available();
        long start = System.nanoTime();
        boolean again = Docker.available();
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 100);
        if (pg.source() == TestPostgres.Source.EMBEDDED && System.getenv(TestPostgres.URL_ENV) == null) {
            assertFalse(again);
        }
    }

    private void awaitCount(String user, int expected) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (pg.countConnections(user) != expected && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(expected, pg.countConnections(user));
    }

    static String query(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            assertTrue(rs.next(), sql);
            return rs.getString(1);
        }
    }
}
