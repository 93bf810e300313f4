package io.pgmux.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 as RFC 5802 section 3 writes it, on the JDK's own crypto, to check pgmux's SCRAM
 * code against something that does not share its library. ASCII passwords only (no SASLprep).
 */
final class RfcScram {
    /** RFC 7677 section 3. */
    static final String USER = "user";

    static final String PASSWORD = "pencil";
    static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_NONCE_SUFFIX = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final String SALT_BASE64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
    static final int ITERATIONS = 4096;
    static final String CLIENT_FIRST = "n,,n=user,r=" + CLIENT_NONCE;
    static final String SERVER_FIRST =
            "r=" + CLIENT_NONCE + SERVER_NONCE_SUFFIX + ",s=" + SALT_BASE64 + ",i=" + ITERATIONS;
    static final String CLIENT_FINAL_WITHOUT_PROOF = "c=biws,r=" + CLIENT_NONCE + SERVER_NONCE_SUFFIX;
    static final String PROOF_BASE64 = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String CLIENT_FINAL = CLIENT_FINAL_WITHOUT_PROOF + ",p=" + PROOF_BASE64;
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    /** The vector's verifier in PostgreSQL's text form, computed with Python's hashlib and hmac. */
    static final String VERIFIER = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ=="
            + "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

    private RfcScram() {}

    static byte[] salt() {
        return Base64.getDecoder().decode(SALT_BASE64);
    }

    static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        try {
            SecretKeyFactory pbkdf2 = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
            return pbkdf2.generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256))
                    .getEncoded();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, "Client Key");
    }

    static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, "Server Key");
    }

    static byte[] hmac(byte[] key, String message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] sha256(byte[] input) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(input);
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    static byte[] unbase64(String text) {
        return Base64.getDecoder().decode(text);
    }
}
