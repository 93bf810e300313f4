package io.pgmux.protocol.auth;

import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * SHA-256 and HMAC-SHA-256 for the SCRAM exchanges, with one {@link Mac} and one {@link MessageDigest} per thread:
 * {@code Mac.getInstance} looks up the provider at every call, which cost more than the HMAC itself at each login.
 * The instances are reset by {@code doFinal}/{@code digest}, so a call never sees another call's state.
 */
final class Sha256 {
    private static final String HMAC = "HmacSHA256";
    private static final ThreadLocal<Mac> MACS = ThreadLocal.withInitial(() -> {
        try {
            return Mac.getInstance(HMAC);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks " + HMAC, e);
        }
    });
    private static final ThreadLocal<MessageDigest> DIGESTS = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    });

    private Sha256() {}

    /** HMAC-SHA-256 of {@code message} with {@code key} (RFC 2104). */
    static byte[] hmac(byte[] key, byte[] message) {
        Mac mac = MACS.get();
        try {
            mac.init(new SecretKeySpec(key, HMAC));
        } catch (InvalidKeyException e) {
            throw new IllegalArgumentException("unusable HMAC key", e);
        }
        return mac.doFinal(message);
    }

    /** SHA-256 of {@code bytes}. */
    static byte[] hash(byte[] bytes) {
        return DIGESTS.get().digest(bytes);
    }
}
