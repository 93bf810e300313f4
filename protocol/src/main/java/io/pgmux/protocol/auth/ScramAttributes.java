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
