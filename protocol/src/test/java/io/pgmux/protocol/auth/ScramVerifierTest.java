package io.pgmux.protocol.auth;

import static io.pgmux.protocol.auth.RfcScram.base64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramVerifierTest {
    private static final String KEY = base64(new byte[32]);

    @Test
    void verifierFromTheRfc7677PasswordMakesTheRfcProofAndServerSignatureCorrect() {
        ScramVerifier verifier = ScramVerifier.fromPassword(RfcScram.PASSWORD, RfcScram.salt(), RfcScram.ITERATIONS);
        String clientFirstBare = RfcScram.CLIENT_FIRST.substring("n,,".length());
        String authMessage = clientFirstBare + "," + RfcScram.SERVER_FIRST + "," + RfcScram.CLIENT_FINAL_WITHOUT_PROOF;

        // RFC 5802 section 3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage), StoredKey = H(ClientKey).
        byte[] clientSignature = RfcScram.hmac(verifier.storedKey(), authMessage);
        byte[] clientKey = RfcScram.xor(RfcScram.unbase64(RfcScram.PROOF_BASE64), clientSignature);
        assertArrayEquals(verifier.storedKey(), RfcScram.sha256(clientKey));
        byte[] serverSignature = RfcScram.hmac(verifier.serverKey(), authMessage);
        assertEquals(RfcScram.SERVER_FINAL, "v=" + base64(serverSignature));
        // And the keys are the ones the RFC's formulas give from the password.
        byte[] salted = RfcScram.saltedPassword(RfcScram.PASSWORD, RfcScram.salt(), RfcScram.ITERATIONS);
        assertArrayEquals(RfcScram.clientKey(salted), clientKey);
        assertArrayEquals(RfcScram.serverKey(salted), verifier.serverKey());
    }

    @Test
    void verifierFromPasswordEncodesAsPostgresStoresIt() {
        ScramVerifier verifier = ScramVerifier.fromPassword(RfcScram.PASSWORD, RfcScram.salt(), RfcScram.ITERATIONS);

        assertEquals(RfcScram.VERIFIER, verifier.encode());
    }

    @Test
    void parsedVerifierEncodesBackToTheSameText() {
        ScramVerifier parsed = ScramVerifier.parse(RfcScram.VERIFIER);

        assertEquals(RfcScram.VERIFIER, parsed.encode());
        assertEquals(4096, parsed.iterations());
        assertArrayEquals(RfcScram.salt(), parsed.salt());
        assertEquals(ScramVerifier.fromPassword(RfcScram.PASSWORD, RfcScram.salt(), RfcScram.ITERATIONS), parsed);
        assertEquals(
                ScramVerifier.fromPassword(RfcScram.PASSWORD, RfcScram.salt(), RfcScram.ITERATIONS)
                        .hashCode(),
                parsed.hashCode());
    }

    @Test
    void freshVerifierHasASixteenByteRandomSaltAndDefaultIterations() {
        ScramVerifier first = ScramVerifier.fromPassword("secret", DeterministicRandom.seeded(1));
        ScramVerifier second = ScramVerifier.fromPassword("secret", DeterministicRandom.seeded(2));

        assertEquals(16, first.salt().length);
        assertEquals(ScramVerifier.DEFAULT_ITERATIONS, first.iterations());
        assertNotEquals(first, second);
        assertEquals(first, ScramVerifier.parse(first.encode()));
    }

    @Test
    void isVerifierRecognisesTheScramPrefix() {
        assertTrue(ScramVerifier.isVerifier(RfcScram.VERIFIER));
        assertFalse(ScramVerifier.isVerifier("md56a422f785c9e20873908ce25d1736ae2"));
        assertFalse(ScramVerifier.isVerifier("pencil"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "pencil",
                "md56a422f785c9e20873908ce25d1736ae2",
                "SCRAM-SHA-1$4096:c2FsdA==$K:K",
                "SCRAM-SHA-256$4096:c2FsdA==",
                "SCRAM-SHA-256$4096$K:K",
                "SCRAM-SHA-256$4096:c2FsdA==$K",
                "SCRAM-SHA-256$4096:c2FsdA==$K:K$K:K",
                "SCRAM-SHA-256$4096:c2FsdA==:x$K:K",
                "SCRAM-SHA-256$many:c2FsdA==$K:K",
                "SCRAM-SHA-256$:c2FsdA==$K:K",
                "SCRAM-SHA-256$0:c2FsdA==$K:K",
                "SCRAM-SHA-256$-1:c2FsdA==$K:K",
                "SCRAM-SHA-256$4096:not*base64$K:K",
                "SCRAM-SHA-256$4096:$K:K",
                "SCRAM-SHA-256$4096:c2FsdA==$c2hvcnQ=:K",
                "SCRAM-SHA-256$4096:c2FsdA==$K:",
            })
    void malformedVerifierIsRefusedWithAReason(String text) {
        String verifier = text.replace("K", KEY);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScramVerifier.parse(verifier));

        assertTrue(e.getMessage().contains("SCRAM-SHA-256 verifier"), e.getMessage());
    }

    @Test
    void keysAreCopiedInAndOut() {
        ScramVerifier verifier = ScramVerifier.parse(RfcScram.VERIFIER);

        verifier.salt()[0] ^= 1;
        verifier.storedKey()[0] ^= 1;
        verifier.serverKey()[0] ^= 1;

        assertEquals(RfcScram.VERIFIER, verifier.encode());
    }

    @Test
    void toStringKeepsKeysOut() {
        String text = ScramVerifier.parse(RfcScram.VERIFIER).toString();

        assertFalse(text.contains("WG5d8oPm"), text);
        assertFalse(text.contains(RfcScram.SALT_BASE64), text);
    }
}
