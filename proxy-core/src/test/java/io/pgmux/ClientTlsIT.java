package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.quote;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgmux.TestCertificates.Issued;
import io.pgmux.TestCertificates.KeyType;
import io.pgmux.client.ClientSession;
import io.pgmux.testkit.TestPostgres;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS between clients and pgmux ({@code tls.client}): psql and pgjdbc get rows over TLS, {@code require} refuses
 * plain text with 28000, {@code verify-ca} wants a client certificate from the CA, {@code verify-full} one whose CN
 * is the user, and bytes stuffed behind an SSLRequest never pass for TLS.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientTlsIT {
    private static final String USER = "it_tls";
    private static final String DB = "it_tls";
    private static final String PASSWORD = "tls-pw";

    @TempDir
    static Path dir;

    private static TestPostgres pg;
    private static TestCertificates ca;
    /** pgmux's certificate: RSA, for 127.0.0.1 and localhost. */
    private static Issued pgmuxCert;
    /** A client certificate whose CN is the user name (EC). */
    private static Issued clientCert;
    /** A client certificate for someone else. */
    private static Issued otherClientCert;

    @BeforeAll
    static void setUp() {
        pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        ca = TestCertificates.authority(dir, "clients");
        pgmuxCert = ca.issue("pgmux", KeyType.RSA, "127.0.0.1", "localhost");
        clientCert = ca.issue(USER, KeyType.EC);
        otherClientCert = ca.issue("someone_else", KeyType.EC);
    }

    private static TestProxy proxy(String mode) {
        return proxy(mode, "");
    }

    private static TestProxy proxy(String mode, String more) {
        return TestProxy.start(more + "\n" + settings(mode, pgmuxCert.cert(), pgmuxCert.key()));
    }

    /** tls.client with {@code mode}, pgmux's certificate and key from {@code cert} and {@code key}, and the users. */
    private static String settings(String mode, Path cert, Path key) {
        return "tls.client { mode = " + mode + ", cert = " + quote(cert.toString()) + ", key = "
                + quote(key.toString()) + ", ca = " + quote(ca.caCert().toString()) + " }\n"
                + "tls.server.mode = disable\n"
                + "auth.users {\n" + user(USER, PASSWORD) + user("pgmux", "admin-pw") + "}\n"
                + "databases {\n" + database(DB, pg, "") + "}";
    }

    /** The console's RELOAD, over TLS when pgmux offers it. */
    private static void reload(TestProxy proxy) throws SQLException {
        try (Connection admin = proxy.connect("pgmux", "pgmux", "admin-pw", "sslmode=prefer");
                Statement console = admin.createStatement()) {
            console.execute("RELOAD");
        }
    }

    /** The subject of the certificate pgmux presents to a new TLS client (which trusts this test's CA). */
    private static String presentedCertificate(TestProxy proxy) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5_000);
            plain.setSoTimeout(10_000);
            plain.getOutputStream()
                    .write(WireClient.untyped(
                            new WireClient.Bytes().int32(80877103).build()));
            assertEquals('S', plain.getInputStream().read());
            try (SSLSocket tls = (SSLSocket) ca.socketFactory().createSocket(plain, "127.0.0.1", proxy.port(), true)) {
                tls.startHandshake();
                X509Certificate leaf = (X509Certificate) tls.getSession().getPeerCertificates()[0];
                return leaf.getSubjectX500Principal().getName();
            }
        }
    }

    @Test
    void aReloadServesANewCertificateToNewClientsAndOldClientsCarryOn() throws Exception {
        Path cert = dir.resolve("reloaded.crt");
        Path key = dir.resolve("reloaded.key");
        Files.copy(pgmuxCert.cert(), cert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(pgmuxCert.key(), key, StandardCopyOption.REPLACE_EXISTING);
        try (TestProxy proxy = TestProxy.start(settings("require", cert, key));
                Connection before = proxy.connect(DB, USER, PASSWORD, "sslmode=require");
                Statement st = before.createStatement()) {
            assertEquals("CN=pgmux", presentedCertificate(proxy));

            Issued renewed = ca.issue("pgmux-renewed", KeyType.EC, "127.0.0.1", "localhost");
            Files.copy(renewed.cert(), cert, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(renewed.key(), key, StandardCopyOption.REPLACE_EXISTING);
            reload(proxy);

            assertEquals("CN=pgmux-renewed", presentedCertificate(proxy));
            try (Connection after =
                            proxy.connect(DB, USER, PASSWORD, "sslmode=verify-full", "sslrootcert=" + ca.caCert());
                    Statement afterSt = after.createStatement()) {
                assertEquals(1, queryInt(afterSt, "SELECT 1"));
            }
            assertEquals(1, queryInt(st, "SELECT 1"), "a client of the old certificate carries on");

            // A file that is not a certificate is refused like any invalid config; the running certificate stays.
            Files.writeString(cert, "not a certificate\n");
            SQLException refused = assertThrows(SQLException.class, () -> reload(proxy));
            assertEquals("F0000", refused.getSQLState(), refused.toString());
            assertTrue(refused.getMessage().contains("tls.client.cert"), refused.getMessage());
            assertEquals("CN=pgmux-renewed", presentedCertificate(proxy));
            assertEquals(1, queryInt(st, "SELECT 1"));
        }
    }

    @Test
    void requireSetByAReloadRefusesNewPlainTextClientsWith28000() throws Exception {
        try (TestProxy proxy = proxy("disable");
                Connection plainBefore = proxy.connect(DB, USER, PASSWORD, "sslmode=disable");
                Statement st = plainBefore.createStatement()) {
            proxy.rewrite(settings("require", pgmuxCert.cert(), pgmuxCert.key()));
            reload(proxy);

            SQLException e =
                    assertThrows(SQLException.class, () -> proxy.connect(DB, USER, PASSWORD, "sslmode=disable"));
            assertEquals("28000", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("tls.client.mode = require"), e.getMessage());
            try (Connection tls = proxy.connect(DB, USER, PASSWORD, "sslmode=require");
                    Statement tlsSt = tls.createStatement()) {
                assertEquals(1, queryInt(tlsSt, "SELECT 1"));
            }
            assertEquals(1, queryInt(st, "SELECT 1"), "a plain-text client from before the reload carries on");
            try (Connection admin = proxy.connect("pgmux", "pgmux", "admin-pw", "sslmode=require")) {
                Map<String, String> mode = ConsoleRows.showRow(admin, "SHOW CONFIG", "key", "tls.client.mode");
                assertEquals("require", mode.get("value"), "SHOW CONFIG shows what is in force");
            }
        }
    }

    @Test
    void pgjdbcGetsRowsOverTlsAndShowClientsSaysSo() throws Exception {
        try (TestProxy proxy = proxy("prefer");
                Connection c = proxy.connect(DB, USER, PASSWORD, "sslmode=require");
                Statement st = c.createStatement()) {
            assertEquals(42, queryInt(st, "SELECT 6 * 7"));
            try (Connection admin =
                            proxy.connect("pgmux", "pgmux", "admin-pw", "sslmode=disable", "preferQueryMode=simple");
                    Statement console = admin.createStatement();
                    ResultSet rs = console.executeQuery("SHOW CLIENTS")) {
                int tlsClients = 0;
                int plainClients = 0;
                while (rs.next()) {
                    String tls = rs.getString("tls");
                    if (USER.equals(rs.getString("user"))) {
                        assertTrue(tls.startsWith("TLSv1."), "tls column of the TLS client: " + tls);
                        tlsClients++;
                    } else {
                        assertEquals("", tls, "the console client came in plain text (prefer allows it)");
                        plainClients++;
                    }
                }
                assertEquals(1, tlsClients);
                assertEquals(1, plainClients);
            }
        }
    }

    @Test
    void pgjdbcVerifyFullChecksPgmuxCertificateAgainstTheCa() throws Exception {
        try (TestProxy proxy = proxy("require")) {
            try (Connection c = proxy.connect(DB, USER, PASSWORD, "sslmode=verify-full", "sslrootcert=" + ca.caCert());
                    Statement st = c.createStatement()) {
                assertEquals(1, queryInt(st, "SELECT 1"));
            }
            TestCertificates stranger = TestCertificates.authority(dir, "stranger");
            SQLException e = assertThrows(
                    SQLException.class,
                    () -> proxy.connect(DB, USER, PASSWORD, "sslmode=verify-full", "sslrootcert=" + stranger.caCert()));
            assertEquals("08006", e.getSQLState(), "pgjdbc refuses pgmux's certificate from an unknown CA: " + e);
        }
    }

    @Test
    void psqlWithSslmodeRequireGetsRows() throws Exception {
        try (TestProxy proxy = proxy("require")) {
            // sslmode=require: psql gives up unless the connection is encrypted.
            Run run = psql(proxy, "sslmode=require", "-c", "SELECT 6 * 7");
            assertEquals(0, run.exitCode(), run.output());
            assertEquals("42", run.output().trim(), run.output());
        }
    }

    @Test
    void requireRefusesPlainTextWith28000() throws Exception {
        try (TestProxy proxy = proxy("require")) {
            SQLException e =
                    assertThrows(SQLException.class, () -> proxy.connect(DB, USER, PASSWORD, "sslmode=disable"));
            assertEquals("28000", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("connection without TLS refused"), e.getMessage());
            assertTrue(e.getMessage().contains("tls.client.mode = require"), e.getMessage());

            Run run = psql(proxy, "sslmode=disable", "-c", "SELECT 1");
            assertTrue(run.exitCode() != 0, run.output());
            assertTrue(run.output().contains("connection without TLS refused"), run.output());
        }
    }

    @Test
    void verifyCaWantsAClientCertificateFromTheCa() throws Exception {
        try (TestProxy proxy = proxy("verify-ca")) {
            assertRefusedForWantOfACertificate(
                    proxy, "a client without a certificate", "sslmode=require", "sslcert=" + dir.resolve("none.crt"));

            // pgjdbc offers a certificate only when its issuer is one pgmux asked for: this one it keeps to itself.
            TestCertificates stranger = TestCertificates.authority(dir, "other-ca");
            Issued foreign = stranger.issue(USER, KeyType.EC);
            assertRefusedForWantOfACertificate(
                    proxy, "a client with a certificate from another CA", withCertificate(foreign));

            try (Connection c = proxy.connect(DB, USER, PASSWORD, withCertificate(otherClientCert));
                    Statement st = c.createStatement()) {
                assertEquals(1, queryInt(st, "SELECT 1"), "verify-ca does not look at the CN");
            }
        }
    }

    /**
     * The TLS handshake fails: pgjdbc reports 08001 (it could not connect; whether the JDK saw pgmux's alert or a
     * closed socket first varies), and pgmux logs why, naming the missing client certificate.
     */
    private static void assertRefusedForWantOfACertificate(TestProxy proxy, String who, String... settings) {
        try (LogCapture log = LogCapture.of(ClientSession.class)) {
            SQLException e = assertThrows(SQLException.class, () -> proxy.connect(DB, USER, PASSWORD, settings), who);
            assertEquals("08001", e.getSQLState(), who + ": " + e);
            assertEquals("The connection attempt failed.", e.getMessage(), who);
            Await.until(
                    "pgmux to log why the TLS handshake with " + who + " failed",
                    Duration.ofSeconds(10),
                    log::infos,
                    lines -> lines.stream().anyMatch(l -> l.endsWith("TLS failed: Empty client certificate chain")));
        }
    }

    @Test
    void verifyFullWantsTheUserNameAsCn() throws Exception {
        try (TestProxy proxy = proxy("verify-full")) {
            try (Connection c = proxy.connect(DB, USER, PASSWORD, withCertificate(clientCert));
                    Statement st = c.createStatement()) {
                assertEquals(1, queryInt(st, "SELECT 1"));
            }
            SQLException e = assertThrows(
                    SQLException.class, () -> proxy.connect(DB, USER, PASSWORD, withCertificate(otherClientCert)));
            assertEquals("28000", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("CN mismatch"), e.getMessage());
        }
    }

    @Test
    void cancelWorksForATlsClient() throws Exception {
        try (TestProxy proxy = proxy("require");
                Connection c = proxy.connect(DB, USER, PASSWORD, "sslmode=require");
                Statement st = c.createStatement()) {
            Sleeps.assertCancelled(pg, DB, USER, st);
            assertEquals(1, queryInt(st, "SELECT 1"), "the client carries on after the cancel");
        }
    }

    @Test
    void aCancelRequestWorksInsideTlsAndInPlainText() throws Exception {
        try (TestProxy proxy = proxy("require", "auth.type = plain")) {
            for (boolean cancelOverTls : new boolean[] {true, false}) {
                try (WireClient client =
                        startTls(WireClient.connect(proxy.port())).logIn(DB, USER, PASSWORD)) {
                    client.query("SELECT pg_sleep(60)");
                    Sleeps.awaitRunning(pg, DB, USER, "pg_sleep(60)");
                    WireClient canceller = WireClient.connect(proxy.port());
                    if (cancelOverTls) {
                        canceller = startTls(canceller);
                    }
                    try (WireClient c = canceller) {
                        c.send(client.cancelRequest());
                        c.readUntilClosed(Duration.ofSeconds(10));
                    }
                    List<WireClient.Message> reply = client.readUntilReady();
                    assertTrue(
                            reply.stream()
                                    .anyMatch(m -> m.type() == 'E'
                                            && "57014".equals(m.fields().get('C'))),
                            (cancelOverTls ? "over TLS: " : "in plain text: ") + reply);
                }
            }
        }
    }

    /** Sends an SSLRequest, expects 'S', and returns the client speaking TLS (trusting this test's CA). */
    private static WireClient startTls(WireClient plain) throws IOException {
        plain.send(WireClient.untyped(new WireClient.Bytes().int32(80877103).build()));
        assertEquals('S', plain.readAnswer());
        return plain.startTls(ca.socketFactory());
    }

    @Test
    void bytesPipelinedBehindTheSslRequestAreRefused() throws Exception {
        try (TestProxy proxy = proxy("require");
                WireClient client = WireClient.connect(proxy.port())) {
            byte[] sslRequest =
                    WireClient.untyped(new WireClient.Bytes().int32(80877103).build());
            byte[] startup = WireClient.startup(3 << 16, Map.of("user", USER, "database", DB));
            client.send(concat(sslRequest, startup));
            WireClient.Ending ending = client.readUntilClosed(Duration.ofSeconds(10));
            assertEquals("08P01", ending.sqlState(), ending.toString());
            assertTrue(
                    ending.errors().get(0).fields().get('M').contains("received unencrypted data after SSL request"),
                    ending.toString());
        }
    }

    @Test
    void aSecondSslRequestInsideTlsIsRefusedAndGssEncGetsN() throws Exception {
        try (TestProxy proxy = proxy("require");
                WireClient plain = WireClient.connect(proxy.port())) {
            plain.send(WireClient.untyped(new WireClient.Bytes().int32(80877104).build()));
            assertEquals('N', plain.readAnswer(), "no GSSAPI encryption");
            plain.send(WireClient.untyped(new WireClient.Bytes().int32(80877103).build()));
            assertEquals('S', plain.readAnswer());
            WireClient tls = plain.startTls(ca.socketFactory());
            tls.send(WireClient.untyped(new WireClient.Bytes().int32(80877103).build()));
            WireClient.Ending ending = tls.readUntilClosed(Duration.ofSeconds(10));
            assertEquals("08P01", ending.sqlState(), ending.toString());
        }
    }

    @Test
    void missingCertificateFileIsAConfigErrorNamingTheKey() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TestProxy.start("tls.client { mode = require, cert = "
                        + quote(dir.resolve("missing.crt").toString()) + ", key = "
                        + quote(pgmuxCert.key().toString()) + " }"));
        assertTrue(e.getMessage().contains("tls.client.cert"), e.getMessage());
        assertFalse(e.getMessage().contains("tls.client.key"), e.getMessage());
    }

    private static String[] withCertificate(Issued cert) {
        return new String[] {
            "sslmode=require", "sslcert=" + cert.cert(), "sslkey=" + cert.derKey(), "sslrootcert=" + ca.caCert()
        };
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    /** What psql printed (stdout and stderr) and its exit status. */
    private record Run(int exitCode, String output) {}

    /** Runs psql through {@code proxy} with {@code sslmode} in its connection string; bounded in time. */
    private static Run psql(TestProxy proxy, String sslmode, String... args) throws IOException, InterruptedException {
        String psql = pg.psqlPath();
        assumeTrue(psql != null, "no psql on this machine");
        String conninfo = "host=127.0.0.1 port=" + proxy.port() + " dbname=" + DB + " user=" + USER + " " + sslmode
                + " connect_timeout=10";
        List<String> command = new java.util.ArrayList<>(List.of(psql, "-X", "-A", "-t", conninfo));
        command.addAll(List.of(args));
        Path output = Files.createTempFile(dir, "psql-", ".out");
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().put("PGPASSWORD", PASSWORD);
        builder.environment().put("PGSSLCERT", dir.resolve("none.crt").toString());
        Process process = builder.start();
        process.getOutputStream().close();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("psql still ran after 60 s: " + Files.readString(output));
        }
        return new Run(process.exitValue(), Files.readString(output));
    }
}
