package io.pgmux.protocol.auth;

import io.pgmux.protocol.ProtocolException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Parses the {@code a=value,b=value} lists of SCRAM messages. */
final class ScramAttributes {
    private ScramAttributes() {}

    static Map<Character, String> parse(String message) {
        Map<Character, String> attributes = new LinkedHashMap<>();
        for (String part : message.split(",", -1)) {
            if (part.length() < 2 || part.charAt(1) != '=') {
                throw new ProtocolException("malformed SCRAM message: attribute \"%s\"", part);
            }
            attributes.putIfAbsent(part.charAt(0), part.substring(2));
        }
        return attributes;
    }

    /**
     * Checks, as {@link #parse} does, that every part of {@code message} is an attribute, without building the map:
     * the server side of a login reads two or three attributes of each message.
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

    /** The value of the first attribute {@code name} of a {@link #check checked} message, as {@link #parse} keeps it. */
    static String require(String message, char name) {
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
        throw new ProtocolException("malformed SCRAM message: attribute '%c' missing", name);
    }

    static String require(Map<Character, String> attributes, char name) {
        String value = attributes.get(name);
        if (value == null) {
            throw new ProtocolException("malformed SCRAM message: attribute '%c' missing", name);
        }
        return value;
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }
}
