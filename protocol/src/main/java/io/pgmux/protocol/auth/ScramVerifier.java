package io.pgmux.protocol.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A SCRAM-SHA-256 verifier in PostgreSQL's format
 * {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>} (RFC 5802, RFC 7677): enough to
 * check a client's proof without knowing its password.
 */
public record ScramVerifier(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
    static final ScramMechanism MECHANISM = ScramMechanism.SCRAM_SHA_256;
    public static final String PREFIX = "SCRAM-SHA-256$";
    public static final int DEFAULT_ITERATIONS = 4096;
    private static final int KEY_LENGTH = 32;

    public ScramVerifier {
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    /** Parses PostgreSQL's text form; fails with IllegalArgumentException naming what is wrong. */
    public static ScramVerifier parse(String text) {
        if (!text.startsWith(PREFIX)) {
            throw new IllegalArgumentException("not a SCRAM-SHA-256 verifier");
        }
        String[] parts = text.substring(PREFIX.length()).split("\\$", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("malformed SCRAM-SHA-256 verifier");
        }
        String[] iterSalt = parts[0].split(":", -1);
        String[] keys = parts[1].split(":", -1);
        if (iterSalt.length != 2 || keys.length != 2) {
            throw new IllegalArgumentException("malformed SCRAM-SHA-256 verifier");
        }
        ScramVerifier verifier;
        try {
            Base64.Decoder b64 = Base64.getDecoder();
            verifier = new ScramVerifier(
                    Integer.parseInt(iterSalt[0]), b64.decode(iterSalt[1]), b64.decode(keys[0]), b64.decode(keys[1]));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed SCRAM-SHA-256 verifier: " + e.getMessage(), e);
        }
        // As PostgreSQL's parse_scram_secret: a verifier that cannot match any proof is a config error.
        if (verifier.iterations < 1) {
            throw new IllegalArgumentException("malformed SCRAM-SHA-256 verifier: iterations must be at least 1");
        }
        if (verifier.salt.length == 0) {
            throw new IllegalArgumentException("malformed SCRAM-SHA-256 verifier: empty salt");
        }
        if (verifier.storedKey.length != KEY_LENGTH || verifier.serverKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException(
                    "malformed SCRAM-SHA-256 verifier: keys must be " + KEY_LENGTH + " bytes");
        }
        return verifier;
    }

    public static boolean isVerifier(String text) {
        return text.startsWith(PREFIX);
    }

    /** Derives a verifier from a password, with a fresh random salt. */
    public static ScramVerifier fromPassword(String password, SecureRandom random) {
        return fromPassword(password, ScramFunctions.salt(16, random), DEFAULT_ITERATIONS);
    }

    public static ScramVerifier fromPassword(String password, byte[] salt, int iterations) {
        byte[] salted = saltedPassword(password, salt, iterations);
        byte[] clientKey = ScramFunctions.clientKey(MECHANISM, salted);
        return new ScramVerifier(
                iterations,
                salt,
                ScramFunctions.storedKey(MECHANISM, clientKey),
                ScramFunctions.serverKey(MECHANISM, salted));
    }

    static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        return ScramFunctions.saltedPassword(
                MECHANISM, StringPreparation.POSTGRESQL_PREPARATION, password.toCharArray(), salt, iterations);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    /** PostgreSQL's text form. */
    public String encode() {
        Base64.Encoder b64 = Base64.getEncoder();
        return PREFIX + iterations + ":" + b64.encodeToString(salt) + "$" + b64.encodeToString(storedKey) + ":"
                + b64.encodeToString(serverKey);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramVerifier v && v.encode().equals(encode());
    }

    @Override
    public int hashCode() {
        return encode().hashCode();
    }

    @Override
    public String toString() {
        return "ScramVerifier[iterations=" + iterations + "]";
    }
}
