package io.pgmux.protocol.auth;

import io.pgmux.protocol.ProtocolException;

/** Reads the {@code a=value,b=value} lists of SCRAM messages. */
final class ScramAttributes {
    private ScramAttributes() {}

    /**
     * Checks that every comma-separated part of {@code message} is an attribute ({@code a=value}); the two or three
     * attributes each side reads are then found with {@link #require}, without a map per message.
     */
    static void check(String message) {
        int start = 0;
        while (true) {
            int end = message.indexOf(',', start);
            int partEnd = end < 0 ? message.length() : end;
            if (partEnd - start < 2 || message.charAt(start + 1) != '=') {
                throw new ProtocolException(
                        "malformed SCRAM message: attribute \"%s\"", message.substring(start, partEnd));
            }
            if (end < 0) {
                return;
            }
            start = end + 1;
        }
    }

    /** The value of the first attribute {@code name} of a {@link #check checked} message (a repeated one is ignored). */
    static String require(String message, char name) {
        String value = find(message, name);
        if (value == null) {
            throw new ProtocolException("malformed SCRAM message: attribute '%c' missing", name);
        }
        return value;
    }

    /** Like {@link #require}, but null when {@code message} has no attribute {@code name}. */
    static String find(String message, char name) {
        int start = 0;
        while (start < message.length()) {
            int end = message.indexOf(',', start);
            int partEnd = end < 0 ? message.length() : end;
            if (message.charAt(start) == name) {
                return message.substring(start + 2, partEnd);
            }
            if (end < 0) {
                break;
            }
            start = end + 1;
        }
        return null;
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }
}
