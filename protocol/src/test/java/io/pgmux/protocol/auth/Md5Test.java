package io.pgmux.protocol.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Md5Test {
    private static final byte[] SALT = {1, 2, 3, 4};

    @Test
    void encryptGivesPostgresStoredForm() throws NoSuchAlgorithmException {
        String expected = "md5" + md5Hex("secretapp".getBytes(StandardCharsets.UTF_8));

        assertEquals(expected, Md5.encrypt("secret", "app"));
        // The same value from an independent implementation (Python's hashlib).
        assertEquals("md56a422f785c9e20873908ce25d1736ae2", Md5.encrypt("secret", "app"));
    }

    @Test
    void encryptHashesNonAsciiAsUtf8() throws NoSuchAlgorithmException {
        String expected = "md5" + md5Hex("pässwördjürgen".getBytes(StandardCharsets.UTF_8));

        assertEquals(expected, Md5.encrypt("pässwörd", "jürgen"));
    }

    @Test
    void saltedResponseHashesTheStoredHexWithTheSalt() throws NoSuchAlgorithmException {
        String stored = Md5.encrypt("secret", "app");
        byte[] input = concat(stored.substring(3).getBytes(StandardCharsets.US_ASCII), SALT);

        assertEquals("md5" + md5Hex(input), Md5.saltedResponse(stored, SALT));
        assertEquals("md5911f527656472583a006e7727877b33e", Md5.saltedResponse(stored, SALT));
    }

    @Test
    void verifyAcceptsTheRightResponse() {
        String stored = Md5.encrypt("secret", "app");

        assertTrue(Md5.verify(stored, SALT, Md5.saltedResponse(stored, SALT)));
    }

    @Test
    void verifyRefusesAWrongPasswordOrAnotherSalt() {
        String stored = Md5.encrypt("secret", "app");

        assertFalse(Md5.verify(stored, SALT, Md5.saltedResponse(Md5.encrypt("Secret", "app"), SALT)));
        assertFalse(Md5.verify(stored, SALT, Md5.saltedResponse(stored, new byte[] {1, 2, 3, 5})));
        assertFalse(Md5.verify(stored, SALT, "md5"));
        assertFalse(Md5.verify(stored, SALT, "secret"));
    }

    @Test
    void isMd5RecognisesOnlyTheStoredForm() {
        assertTrue(Md5.isMd5(Md5.encrypt("secret", "app")));
        assertTrue(Md5.isMd5("md5" + "0123456789ABCDEF".repeat(2)));
        assertFalse(Md5.isMd5("secret"));
        assertFalse(Md5.isMd5("md5" + "0".repeat(31)));
        assertFalse(Md5.isMd5("md5" + "g".repeat(32)));
        assertFalse(Md5.isMd5("SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5"));
    }

    @Test
    void saltedResponseRefusesACleartextPassword() {
        assertThrows(IllegalArgumentException.class, () -> Md5.saltedResponse("secret", SALT));
    }

    private static String md5Hex(byte[] input) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(input));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
