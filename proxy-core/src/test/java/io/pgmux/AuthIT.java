package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.pgmux.protocol.auth.ScramVerifier;
import io.pgmux.testkit.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Client logins under every {@code auth.type}, with the password pgmux holds as plain text, an MD5 hash or a SCRAM
 * verifier, and the server login pgmux makes with it (SCRAM or MD5, as PostgreSQL stores the password).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AuthIT {
    private static final String DB = "it_auth";
    /** pgmux holds the plain password; PostgreSQL a SCRAM verifier. */
    private static final String PLAIN_USER = "it_auth_plain";
    /** pgmux holds "md5" + md5(password + user); PostgreSQL the same MD5 hash, with an md5 pg_hba.conf rule. */
    private static final String MD5_USER = "it_auth_md5";
    /** pgmux holds a SCRAM verifier, the very one PostgreSQL stores. */
    private static final String SCRAM_USER = "it_auth_scram";
    /** pgmux holds the plain password; PostgreSQL an MD5 hash: pgmux answers PostgreSQL's MD5 challenge. */
    private static final String MD5_SERVER_USER = "it_auth_md5srv";

    private static TestPostgres pg;
    private static String md5Secret;
    private static String scramVerifier;

    @BeforeAll
    static void createUsers() {
        pg = TestPostgres.shared();
        pg.createDatabase(DB);
        pg.createUser(PLAIN_USER, password(PLAIN_USER));
        pg.createMd5User(MD5_USER, password(MD5_USER));
        md5Secret = "md5" + md5Hex(password(MD5_USER) + MD5_USER);
        scramVerifier = ScramVerifier.fromPassword(password(SCRAM_USER), new SecureRandom())
                .encode();
        // PostgreSQL stores a password given as a verifier as it is.
        pg.createUser(SCRAM_USER, scramVerifier);
        pg.createMd5User(MD5_SERVER_USER, password(MD5_SERVER_USER));
    }

    static Stream<Arguments> logins() {
        return Stream.of(
                arguments("trust", PLAIN_USER),
                arguments("plain", PLAIN_USER),
                arguments("md5", PLAIN_USER),
                arguments("scram-sha-256", PLAIN_USER),
                arguments("trust", MD5_USER),
                arguments("plain", MD5_USER),
                arguments("md5", MD5_USER),
                arguments("scram-sha-256", SCRAM_USER),
                // As in PostgreSQL, an md5 method with a SCRAM-stored password runs SCRAM.
                arguments("md5", SCRAM_USER),
                arguments("scram-sha-256", MD5_SERVER_USER),
                arguments("md5", MD5_SERVER_USER),
                arguments("plain", MD5_SERVER_USER));
    }

    @ParameterizedTest(name = "auth.type = {0}, user {1}")
    @MethodSource("logins")
    void clientLogsInAndRunsAQuery(String authType, String user) throws SQLException {
        try (TestProxy proxy = TestProxy.start(settings(authType))) {
            try (Connection c = proxy.connect(DB, user, password(user));
                    Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT current_user, current_database(), 6 * 7")) {
                assertTrue(rs.next());
                assertEquals(user, rs.getString(1));
                assertEquals(DB, rs.getString(2));
                assertEquals(42, rs.getInt(3));
            }
            if (!authType.equals("trust")) {
                SQLException e =
                        assertThrows(SQLException.class, () -> proxy.connect(DB, user, password(user) + "-wrong"));
                assertEquals("28P01", e.getSQLState(), authType + ": " + e);
            }
        }
    }

    @Test
    void trustLetsAnyPasswordIn() throws SQLException {
        try (TestProxy proxy = TestProxy.start(settings("trust"));
                Connection c = proxy.connect(DB, PLAIN_USER, "anything at all");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT current_user")) {
            assertTrue(rs.next());
            assertEquals(PLAIN_USER, rs.getString(1));
        }
    }

    @Test
    void md5HashCannotAnswerScramAndIsRefusedWith28P01() {
        // PostgreSQL refuses the same way: a SCRAM exchange needs more than an MD5 hash.
        try (TestProxy proxy = TestProxy.start(settings("scram-sha-256"))) {
            SQLException e = assertThrows(SQLException.class, () -> proxy.connect(DB, MD5_USER, password(MD5_USER)));
            assertEquals("28P01", e.getSQLState(), e.toString());
        }
    }

    @Test
    void serverLoginAnswersPostgresMd5Challenge() throws SQLException {
        try (Connection c = pg.connect("postgres");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT rolname, left(rolpassword, 3) FROM pg_authid"
                        + " WHERE rolname IN ('" + MD5_USER + "', '" + MD5_SERVER_USER + "') ORDER BY 1")) {
            for (String user : new String[] {MD5_USER, MD5_SERVER_USER}) {
                assertTrue(rs.next());
                assertEquals(user, rs.getString(1));
                assertEquals("md5", rs.getString(2), "PostgreSQL stores " + user + "'s password as MD5");
            }
        }
        try (TestProxy proxy = TestProxy.start(settings("scram-sha-256"));
                Connection c = proxy.connect(DB, MD5_SERVER_USER, password(MD5_SERVER_USER));
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT current_user")) {
            assertTrue(rs.next());
            assertEquals(MD5_SERVER_USER, rs.getString(1));
        }
    }

    private static String settings(String authType) {
        return "auth.type = " + authType + "\n"
                + "auth.users {\n"
                + user(PLAIN_USER, password(PLAIN_USER))
                + user(MD5_USER, md5Secret)
                + user(SCRAM_USER, scramVerifier)
                + user(MD5_SERVER_USER, password(MD5_SERVER_USER))
                + "}\n"
                + "databases {\n" + database(DB, pg, "") + "}";
    }

    private static String password(String user) {
        return user + "-secret";
    }

    private static String md5Hex(String s) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
