package io.pgmux.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * PostgreSQL's MD5 password scheme: the stored form is {@code "md5" + md5(password + user)}, and on
 * the wire the client sends {@code "md5" + md5(storedHex + salt)}.
 */
public final class Md5 {
    private Md5() {}

    /** The stored form of a password, as in {@code pg_authid.rolpassword}. */
    public static String encrypt(String password, String user) {
        return "md5" + hex(md5(password.getBytes(StandardCharsets.UTF_8), user.getBytes(StandardCharsets.UTF_8)));
    }

    /** What a client sends for the salt, given the stored form ({@code md5…}). */
    public static String saltedResponse(String storedMd5, byte[] salt) {
        if (!isMd5(storedMd5)) {
            throw new IllegalArgumentException("not an MD5 password hash");
        }
        return "md5" + hex(md5(storedMd5.substring(3).getBytes(StandardCharsets.US_ASCII), salt));
    }

    /** Compares a client's response with the expected one in constant time. */
    public static boolean verify(String storedMd5, byte[] salt, String response) {
        byte[] expected = saltedResponse(storedMd5, salt).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, response.getBytes(StandardCharsets.US_ASCII));
    }

    /** True for a stored MD5 hash: {@code md5} followed by 32 hex digits. */
    public static boolean isMd5(String password) {
        return password.length() == 35
                && password.startsWith("md5")
                && password.substring(3).chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    private static byte[] md5(byte[] first, byte[] second) {
        try {
            MessageDigest digest = MessageDigest.getInstance("MD5");
            digest.update(first);
            digest.update(second);
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is missing from this JDK", e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
