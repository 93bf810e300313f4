package io.pgmux.protocol.auth;

import static io.pgmux.protocol.ProtocolAssertions.assertProtocolViolation;
import static io.pgmux.protocol.auth.RfcScram.base64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.ProtocolException;
import io.pgmux.protocol.SqlState;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ScramExchangeTest {
    private static final Pattern SERVER_FIRST = Pattern.compile("r=([^,]+),s=([^,]+),i=(\\d+)");

    /** The RFC 7677 verifier; derived once, as PBKDF2 is the slow part of every test here. */
    private static final ScramVerifier RFC_VERIFIER = ScramVerifier.parse(RfcScram.VERIFIER);

    private static final ScramVerifier VERIFIER =
            ScramVerifier.fromPassword("s3cret", "pgmux-salt-16byt".getBytes(StandardCharsets.US_ASCII), 4096);

    private final SecureRandom random = DeterministicRandom.seeded(42);

    @Test
    void serverAcceptsTheProofOfAnIndependentRfcClient() {
        ScramServerExchange server = new ScramServerExchange(RFC_VERIFIER, random);

        String serverFirst = server.serverFirst(RfcScram.CLIENT_FIRST);

        Matcher m = SERVER_FIRST.matcher(serverFirst);
        assertTrue(m.matches(), serverFirst);
        assertTrue(m.group(1).startsWith(RfcScram.CLIENT_NONCE), "server nonce extends the client nonce");
        assertTrue(m.group(1).length() > RfcScram.CLIENT_NONCE.length(), "server adds its own nonce");
        assertEquals(RfcScram.SALT_BASE64, m.group(2));
        assertEquals("4096", m.group(3));

        String clientFirstBare = "n=user,r=" + RfcScram.CLIENT_NONCE;
        String clientFinal = rfcClientFinal("n,,", clientFirstBare, serverFirst, RfcScram.PASSWORD);
        Optional<String> serverFinal = server.serverFinal(clientFinal);

        assertEquals(
                Optional.of(rfcServerFinal(clientFirstBare, serverFirst, clientFinal, RfcScram.PASSWORD)), serverFinal);
        byte[] salted = RfcScram.saltedPassword(RfcScram.PASSWORD, RfcScram.salt(), RfcScram.ITERATIONS);
        assertArrayEquals(RfcScram.clientKey(salted), server.clientKey().orElseThrow());
    }

    @Test
    void clientAnswersAsTheRfcFormulasSayAndChecksTheServer() {
        ScramClientExchange client = ScramClientExchange.withPassword(RfcScram.PASSWORD, random);

        String clientFirst = client.clientFirst();
        assertTrue(clientFirst.startsWith("n,,n=,r="), clientFirst);
        String clientNonce = clientFirst.substring("n,,n=,r=".length());
        assertFalse(clientNonce.isEmpty());
        assertFalse(clientNonce.contains(","));

        String serverFirst =
                "r=" + clientNonce + RfcScram.SERVER_NONCE_SUFFIX + ",s=" + RfcScram.SALT_BASE64 + ",i=4096";
        String clientFinal = client.clientFinal(serverFirst);

        String clientFirstBare = clientFirst.substring(3);
        assertEquals(rfcClientFinal("n,,", clientFirstBare, serverFirst, RfcScram.PASSWORD), clientFinal);
        client.verifyServerFinal(rfcServerFinal(clientFirstBare, serverFirst, clientFinal, RfcScram.PASSWORD));
    }

    @Test
    void clientRefusesAServerThatDoesNotKnowTheVerifier() {
        ScramClientExchange client = ScramClientExchange.withPassword(RfcScram.PASSWORD, random);
        String clientFirst = client.clientFirst();
        String serverFirst = "r=" + clientFirst.substring(8) + "xyz,s=" + RfcScram.SALT_BASE64 + ",i=4096";
        client.clientFinal(serverFirst);

        assertProtocolViolation(
                () -> client.verifyServerFinal("v=" + base64(new byte[32])), "SCRAM server signature is wrong");
    }

    @Test
    void clientReportsTheServersErrorAsAnInvalidPassword() {
        ScramClientExchange client = ScramClientExchange.withPassword(RfcScram.PASSWORD, random);
        String clientFirst = client.clientFirst();
        client.clientFinal("r=" + clientFirst.substring(8) + "xyz,s=" + RfcScram.SALT_BASE64 + ",i=4096");

        PgmuxException e = assertThrows(PgmuxException.class, () -> client.verifyServerFinal("e=invalid-proof"));

        assertEquals(SqlState.INVALID_PASSWORD, e.sqlState());
        assertTrue(e.getMessage().contains("invalid-proof"), e.getMessage());
    }

    @Test
    void rightPasswordLogsInAndTheClientVerifiesTheServer() {
        ScramServerExchange server = new ScramServerExchange(VERIFIER, random);
        ScramClientExchange client = ScramClientExchange.withPassword("s3cret", random);

        Optional<String> serverFinal = server.serverFinal(client.clientFinal(server.serverFirst(client.clientFirst())));

        assertTrue(serverFinal.isPresent());
        client.verifyServerFinal(serverFinal.get());
        assertEquals(32, server.clientKey().orElseThrow().length);
    }

    @Test
    void wrongPasswordGetsNoServerFinalAndNoClientKey() {
        ScramServerExchange server = new ScramServerExchange(VERIFIER, random);
        ScramClientExchange client = ScramClientExchange.withPassword("S3cret", random);

        Optional<String> serverFinal = server.serverFinal(client.clientFinal(server.serverFirst(client.clientFirst())));

        assertEquals(Optional.empty(), serverFinal);
        assertEquals(Optional.empty(), server.clientKey());
    }

    @Test
    void proofOfTheWrongLengthIsAWrongPassword() {
        ScramServerExchange server = new ScramServerExchange(VERIFIER, random);
        String nonce = nonceOf(server.serverFirst("n,,n=,r=abc"));

        Optional<String> serverFinal = server.serverFinal("c=biws,r=" + nonce + ",p=" + base64(new byte[16]));

        assertEquals(Optional.empty(), serverFinal);
    }

    @Test
    void clientThatCouldBindChannelsButThinksWeCannotLogsIn() {
        ScramServerExchange server = new ScramServerExchange(RFC_VERIFIER, random);
        String clientFirstBare = "n=,r=fyko+d2lbbFgONRv9qkxdawL";
        String serverFirst = server.serverFirst("y,," + clientFirstBare);

        String clientFinal = rfcClientFinal("y,,", clientFirstBare, serverFirst, RfcScram.PASSWORD);

        assertTrue(clientFinal.startsWith("c=eSws,"));
        assertTrue(server.serverFinal(clientFinal).isPresent());
    }

    @Test
    void clientKeyFromOneLoginLogsInToAServerWithTheSameVerifier() {
        ScramServerExchange clientSide = new ScramServerExchange(VERIFIER, random);
        ScramClientExchange application = ScramClientExchange.withPassword("s3cret", random);
        clientSide.serverFinal(application.clientFinal(clientSide.serverFirst(application.clientFirst())));
        byte[] clientKey = clientSide.clientKey().orElseThrow();

        ScramServerExchange postgres = new ScramServerExchange(VERIFIER, DeterministicRandom.seeded(7));
        ScramClientExchange pgmux = ScramClientExchange.withClientKey(VERIFIER, clientKey, random);
        Optional<String> serverFinal =
                postgres.serverFinal(pgmux.clientFinal(postgres.serverFirst(pgmux.clientFirst())));

        assertTrue(serverFinal.isPresent());
        pgmux.verifyServerFinal(serverFinal.get());
        assertArrayEquals(clientKey, postgres.clientKey().orElseThrow());
    }

    @Test
    void passThroughAgainstAnotherSaltIsAnInvalidPassword() {
        ScramVerifier other =
                ScramVerifier.fromPassword("s3cret", "another-salt-16b".getBytes(StandardCharsets.US_ASCII), 4096);
        assertNotEquals(VERIFIER, other);

        PgmuxException e = passThroughFailure(other);

        assertEquals(SqlState.INVALID_PASSWORD, e.sqlState());
        assertEquals("28P01", e.sqlState().code());
        assertTrue(e.getMessage().contains("salt or iterations"), e.getMessage());
    }

    @Test
    void passThroughAgainstOtherIterationsIsAnInvalidPassword() {
        ScramVerifier other = ScramVerifier.fromPassword("s3cret", VERIFIER.salt(), 4097);

        assertEquals(SqlState.INVALID_PASSWORD, passThroughFailure(other).sqlState());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "n,,n=                            | attribute 'r' missing",
                "n,,n=,r=                         | empty client nonce",
                "p=tls-server-end-point,,n=,r=abc | channel binding is not supported",
                "x,,n=,r=abc                      | unexpected channel binding flag",
                "''                               | unexpected channel binding flag",
                "n,                               | no GS2 header",
                "n,,garbage                       | malformed SCRAM message: attribute \"garbage\"",
            })
    void malformedClientFirstIsAProtocolViolation(String clientFirst, String messagePart) {
        ScramServerExchange server = new ScramServerExchange(VERIFIER, random);

        assertProtocolViolation(() -> server.serverFirst(clientFirst), messagePart);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "c=biws,r=NONCEx,p=PROOF   | nonce does not match",
                "c=biws,r=abc,p=PROOF      | nonce does not match",
                "c=biws,p=PROOF            | attribute 'r' missing",
                "c=biws,r=NONCE,p=***      | proof is not base64",
                "c=biws,r=NONCE            | proof missing",
                "c=eSws,r=NONCE,p=PROOF    | channel binding does not match",
                "c=!!!!,r=NONCE,p=PROOF    | channel binding is not base64",
                "r=NONCE,p=PROOF           | attribute 'c' missing",
                "c=biws,r=NONCE,,p=PROOF   | malformed SCRAM message",
            })
    void malformedClientFinalIsAProtocolViolation(String template, String messagePart) {
        ScramServerExchange server = new ScramServerExchange(VERIFIER, random);
        String nonce = nonceOf(server.serverFirst("n,,n=,r=abc"));
        String clientFinal = template.replace("NONCE", nonce).replace("PROOF", base64(new byte[32]));

        assertProtocolViolation(() -> server.serverFinal(clientFinal), messagePart);
        assertEquals(Optional.empty(), server.clientKey());
    }

    @Test
    void serverFinalBeforeServerFirstIsAProgrammingError() {
        ScramServerExchange server = new ScramServerExchange(VERIFIER, random);

        assertThrows(IllegalStateException.class, () -> server.serverFinal("c=biws,r=abc,p=AAAA"));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "r=somebodyelse,s=SALT,i=4096 | does not extend the client nonce",
                "r=NONCE,s=SALT,i=4096        | does not extend the client nonce",
                "s=SALT,i=4096                | attribute 'r' missing",
                "r=NONCEx,i=4096              | attribute 's' missing",
                "r=NONCEx,s=SALT              | attribute 'i' missing",
                "r=NONCEx,s=***,i=4096        | malformed SCRAM server-first-message",
                "r=NONCEx,s=SALT,i=many       | malformed SCRAM server-first-message",
                "r=NONCEx,s=SALT,i=0          | 0 iterations",
                "r=NONCEx,s=,i=4096           | 0-byte salt",
            })
    void malformedServerFirstIsAProtocolViolation(String template, String messagePart) {
        ScramClientExchange client = ScramClientExchange.withPassword("s3cret", random);
        String nonce = client.clientFirst().substring("n,,n=,r=".length());
        String serverFirst = template.replace("NONCE", nonce).replace("SALT", RfcScram.SALT_BASE64);

        assertProtocolViolation(() -> client.clientFinal(serverFirst), messagePart);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {"v=***  | server-final-message: signature is not base64", "x=abc  | attribute 'v' missing"})
    void malformedServerFinalIsAProtocolViolation(String serverFinal, String messagePart) {
        ScramClientExchange client = ScramClientExchange.withPassword("s3cret", random);
        String nonce = client.clientFirst().substring("n,,n=,r=".length());
        client.clientFinal("r=" + nonce + "x,s=" + RfcScram.SALT_BASE64 + ",i=4096");

        assertProtocolViolation(() -> client.verifyServerFinal(serverFinal), messagePart);
    }

    @Test
    void clientFinalBeforeClientFirstIsAProgrammingError() {
        ScramClientExchange client = ScramClientExchange.withPassword("s3cret", random);

        assertThrows(IllegalStateException.class, () -> client.clientFinal("r=abc,s=" + RfcScram.SALT_BASE64 + ",i=1"));
    }

    @Test
    void serverFinalBeforeClientFinalIsRefused() {
        ScramClientExchange client = ScramClientExchange.withPassword("s3cret", random);
        client.clientFirst();

        assertThrows(ProtocolException.class, () -> client.verifyServerFinal("v=" + base64(new byte[32])));
    }

    @Test
    void seededExchangesAreRepeatable() {
        String first = ScramClientExchange.withPassword("x", DeterministicRandom.seeded(5))
                .clientFirst();
        String second = ScramClientExchange.withPassword("x", DeterministicRandom.seeded(5))
                .clientFirst();

        assertEquals(first, second);
    }

    private PgmuxException passThroughFailure(ScramVerifier postgresVerifier) {
        ScramServerExchange clientSide = new ScramServerExchange(VERIFIER, random);
        ScramClientExchange application = ScramClientExchange.withPassword("s3cret", random);
        clientSide.serverFinal(application.clientFinal(clientSide.serverFirst(application.clientFirst())));

        ScramServerExchange postgres = new ScramServerExchange(postgresVerifier, random);
        ScramClientExchange pgmux = ScramClientExchange.withClientKey(
                VERIFIER, clientSide.clientKey().orElseThrow(), random);
        String serverFirst = postgres.serverFirst(pgmux.clientFirst());
        PgmuxException e = assertThrows(PgmuxException.class, () -> pgmux.clientFinal(serverFirst));
        assertFalse(e instanceof ProtocolException, "a configuration mismatch, not a malformed message");
        return e;
    }

    private static String nonceOf(String serverFirst) {
        Matcher m = SERVER_FIRST.matcher(serverFirst);
        assertTrue(m.matches(), serverFirst);
        return m.group(1);
    }

    /** client-final-message computed with RFC 5802's formulas, independently of pgmux. */
    private static String rfcClientFinal(
            String gs2Header, String clientFirstBare, String serverFirst, String password) {
        Matcher m = SERVER_FIRST.matcher(serverFirst);
        assertTrue(m.matches(), serverFirst);
        byte[] salted = RfcScram.saltedPassword(password, RfcScram.unbase64(m.group(2)), Integer.parseInt(m.group(3)));
        String withoutProof = "c=" + base64(gs2Header.getBytes(StandardCharsets.UTF_8)) + ",r=" + m.group(1);
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] clientKey = RfcScram.clientKey(salted);
        byte[] clientSignature = RfcScram.hmac(RfcScram.sha256(clientKey), authMessage);
        return withoutProof + ",p=" + base64(RfcScram.xor(clientKey, clientSignature));
    }

    /** server-final-message computed with RFC 5802's formulas, independently of pgmux. */
    private static String rfcServerFinal(
            String clientFirstBare, String serverFirst, String clientFinal, String password) {
        Matcher m = SERVER_FIRST.matcher(serverFirst);
        assertTrue(m.matches(), serverFirst);
        byte[] salted = RfcScram.saltedPassword(password, RfcScram.unbase64(m.group(2)), Integer.parseInt(m.group(3)));
        String withoutProof = clientFinal.substring(0, clientFinal.lastIndexOf(",p="));
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        return "v=" + base64(RfcScram.hmac(RfcScram.serverKey(salted), authMessage));
    }

    @Test
    void rfcHelperReproducesTheRfc7677Vector() {
        // Guards the independent helper itself: with the RFC's nonces it must give the RFC's messages.
        String clientFirstBare = RfcScram.CLIENT_FIRST.substring(3);

        assertEquals(
                RfcScram.CLIENT_FINAL,
                rfcClientFinal("n,,", clientFirstBare, RfcScram.SERVER_FIRST, RfcScram.PASSWORD));
        assertEquals(
                RfcScram.SERVER_FINAL,
                rfcServerFinal(clientFirstBare, RfcScram.SERVER_FIRST, RfcScram.CLIENT_FINAL, RfcScram.PASSWORD));
    }
}
