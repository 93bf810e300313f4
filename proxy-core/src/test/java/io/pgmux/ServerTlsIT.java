package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.quote;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.TestCertificates.Issued;
import io.pgmux.TestCertificates.KeyType;
import io.pgmux.protocol.message.StartupMessage;
import io.pgmux.testkit.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS between pgmux and PostgreSQL ({@code tls.server}), against a private PostgreSQL with {@code ssl = on} and a
 * certificate made here: PostgreSQL's own {@code pg_stat_ssl} shows whether pgmux's server connections are
 * encrypted, and a certificate pgmux must not trust fails the login with 08006.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ServerTlsIT {
    private static final String USER = "it_stls";
    private static final String DB = "it_stls";
    private static final String PASSWORD = "stls-pw";
    /** What a server connection of pgmux sees of itself: whether it is encrypted, and how. */
    private static final String MY_SSL =
            "SELECT s.ssl, coalesce(s.version, '') FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                    + " WHERE a.pid = pg_backend_pid()";

    @TempDir
    static Path dir;

    private static TestPostgres pg;
    private static TestCertificates ca;

    @BeforeAll
    static void startPostgresWithTls() {
        ca = TestCertificates.authority(dir, "servers");
        // Named for localhost only: verify-full accepts it for host "localhost" and refuses it for 127.0.0.1.
        Issued serverCert = ca.issue("postgres", KeyType.EC, "localhost");
        pg = TestPostgres.start();
        pg.enableTls(serverCert.cert(), serverCert.key());
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    private static TestProxy proxy(String serverTls) {
        return TestProxy.start(settings(serverTls));
    }

    private static String settings(String serverTls) {
        return "tls.server { " + serverTls + " }\n"
                + "auth.users {\n" + user(USER, PASSWORD) + user("pgmux", "admin-pw") + "}\n"
                + "databases {\n" + database(DB, pg, "") + "}";
    }

    /** Whether the server connection {@code c} runs on is encrypted, as PostgreSQL sees it. */
    private static boolean encrypted(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(MY_SSL)) {
            assertTrue(rs.next());
            return rs.getBoolean(1);
        }
    }

    @Test
    void aReloadedModeAppliesToServerConnectionsOpenedAfterwards() throws Exception {
        try (TestProxy proxy = proxy("mode = require");
                Connection before = proxy.connect(DB, USER, PASSWORD)) {
            before.setAutoCommit(false);
            assertTrue(encrypted(before), "require");

            proxy.rewrite(settings("mode = disable"));
            try (Connection admin = proxy.connect("pgmux", "pgmux", "admin-pw", "preferQueryMode=simple");
                    Statement console = admin.createStatement()) {
                console.execute("RELOAD");
            }
            // The first client's transaction keeps its server, so the second one gets a server opened after the reload.
            try (Connection after = proxy.connect(DB, USER, PASSWORD)) {
                assertEquals(false, encrypted(after), "disable, after the reload");
            }
            assertTrue(encrypted(before), "the server connection opened before the reload keeps its TLS");
            before.commit();
        }
    }

    /** As {@link #proxy}, with PostgreSQL reached by the name "localhost", the name its certificate carries. */
    private static TestProxy proxyByName(String serverTls) {
        return TestProxy.start("tls.server { " + serverTls + " }\n"
                + "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n" + quote(DB) + " { host = \"localhost\", port = " + pg.port() + " }\n}");
    }

    @Test
    void requireVerifyCaAndVerifyFullEncryptServerConnections() throws Exception {
        for (String mode : new String[] {
            "mode = require",
            "mode = verify-ca, ca = " + quote(ca.caCert().toString()),
            "mode = verify-full, ca = " + quote(ca.caCert().toString())
        }) {
            try (TestProxy proxy = mode.contains("verify-full") ? proxyByName(mode) : proxy(mode);
                    Connection c = proxy.connect(DB, USER, PASSWORD);
                    Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery(MY_SSL)) {
                assertTrue(rs.next(), mode);
                assertTrue(rs.getBoolean(1), mode + ": pg_stat_ssl.ssl of pgmux's server connection");
                assertTrue(rs.getString(2).startsWith("TLSv1."), mode + ": " + rs.getString(2));
            }
        }
    }

    @Test
    void preferUsesTlsWhenOfferedAndDisableDoesNot() throws Exception {
        try (TestProxy proxy = proxy("mode = prefer");
                Connection c = proxy.connect(DB, USER, PASSWORD);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(MY_SSL)) {
            assertTrue(rs.next());
            assertTrue(rs.getBoolean(1), "prefer: encrypted when PostgreSQL offers TLS");
            try (Connection admin = proxy.connect("pgmux", "pgmux", "admin-pw", "preferQueryMode=simple");
                    Statement console = admin.createStatement();
                    ResultSet servers = console.executeQuery("SHOW SERVERS")) {
                assertTrue(servers.next(), "one server connection");
                assertTrue(
                        servers.getString("tls").startsWith("TLSv1."), "SHOW SERVERS tls: " + servers.getString("tls"));
            }
        }
        try (TestProxy proxy = proxy("mode = disable");
                Connection c = proxy.connect(DB, USER, PASSWORD);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(MY_SSL)) {
            assertTrue(rs.next());
            assertEquals(false, rs.getBoolean(1), "disable: plain text");
        }
    }

    @Test
    void verifyCaWithAnotherCaFailsWith08006() throws Exception {
        TestCertificates stranger = TestCertificates.authority(dir, "stranger");
        try (TestProxy proxy =
                proxy("mode = verify-ca, ca = " + quote(stranger.caCert().toString()))) {
            SQLException e = assertThrows(SQLException.class, () -> proxy.connect(DB, USER, PASSWORD));
            assertEquals("08006", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("TLS handshake with server 127.0.0.1:" + pg.port()), e.getMessage());
            assertTrue(e.getMessage().contains("tls.server.mode = verify-ca"), e.getMessage());
        }
    }

    @Test
    void verifyFullRefusesACertificateForAnotherHostWith08006() throws Exception {
        try (TestProxy proxy =
                proxy("mode = verify-full, ca = " + quote(ca.caCert().toString()))) {
            SQLException e = assertThrows(SQLException.class, () -> proxy.connect(DB, USER, PASSWORD));
            assertEquals("08006", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("tls.server.mode = verify-full"), e.getMessage());
            assertTrue(e.getMessage().contains("127.0.0.1"), "names the host: " + e.getMessage());
        }
    }

    @Test
    void requireAgainstAServerWithoutTlsFailsWith08006() throws Exception {
        TestPostgres plain = TestPostgres.shared();
        plain.createUser(USER, PASSWORD);
        plain.createDatabase(DB, USER);
        try (TestProxy proxy = TestProxy.start("tls.server.mode = require\n"
                + "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n" + database(DB, plain, "") + "}")) {
            SQLException e = assertThrows(SQLException.class, () -> proxy.connect(DB, USER, PASSWORD));
            assertEquals("08006", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("refused TLS"), e.getMessage());
            assertTrue(e.getMessage().contains("127.0.0.1:" + plain.port()), e.getMessage());
        }
    }

    /**
     * PostgreSQL takes a cancel in plain text even when it wants TLS for logins (pg_hba does not apply to cancels),
     * so that the cancel works proves nothing: a relay in front of PostgreSQL shows how each connection of pgmux
     * began. With {@code require}, the cancel's connection starts with an SSLRequest like the login's; with
     * {@code disable}, the same relay sees the plain StartupMessage and CancelRequest.
     */
    @Test
    void cancelReachesPostgresOverTlsWhenServerConnectionsUseTls() throws Exception {
        Map<String, List<Integer>> expected = new LinkedHashMap<>();
        expected.put("mode = require", List.of(FaultRelay.SSL_REQUEST_CODE, FaultRelay.SSL_REQUEST_CODE));
        expected.put("mode = disable", List.of(StartupMessage.PROTOCOL_3_0, FaultRelay.CANCEL_REQUEST_CODE));
        for (Map.Entry<String, List<Integer>> mode : expected.entrySet()) {
            try (FaultRelay relay = FaultRelay.start(pg.host(), pg.port());
                    TestProxy proxy = TestProxy.start("tls.server { " + mode.getKey() + " }\n"
                            + "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                            + "databases {\n" + relay.database(DB, "") + "}");
                    Connection c = proxy.connect(DB, USER, PASSWORD);
                    Statement st = c.createStatement()) {
                Sleeps.assertCancelled(pg, DB, USER, st);
                assertEquals(
                        mode.getValue(),
                        relay.openingCodes(),
                        mode.getKey() + ": how the login's and then the cancel's connection began");
            }
        }
    }
}
