package io.pgmux.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds protocol bytes by hand, without the encoders under test, so that the decoders are checked
 * against the wire format itself rather than against their own mirror image.
 */
public final class WireBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private WireBytes() {}

    public static WireBytes body() {
        return new WireBytes();
    }

    public WireBytes int8(int value) {
        out.write(value);
        return this;
    }

    public WireBytes int16(int value) {
        out.write(value >>> 8);
        out.write(value);
        return this;
    }

    public WireBytes int32(int value) {
        int16(value >>> 16);
        return int16(value);
    }

    public WireBytes bytes(byte[] value) {
        out.writeBytes(value);
        return this;
    }

    /** UTF-8 without a terminator. */
    public WireBytes text(String value) {
        return bytes(value.getBytes(StandardCharsets.UTF_8));
    }

    /** UTF-8 with its NUL terminator. */
    public WireBytes cstring(String value) {
        return text(value).int8(0);
    }

    public byte[] build() {
        return out.toByteArray();
    }

    /** A typed message: type byte, length (itself included), body. */
    public static byte[] typed(char type, byte[] body) {
        return body().int8(type).int32(4 + body.length).bytes(body).build();
    }

    /** An untyped startup packet: length (itself included), body. */
    public static byte[] untyped(byte[] body) {
        return body().int32(4 + body.length).bytes(body).build();
    }

    public static byte[] concat(byte[]... parts) {
        WireBytes all = body();
        for (byte[] part : parts) {
            all.bytes(part);
        }
        return all.build();
    }

    public static byte[] range(byte[] bytes, int from, int to) {
        return Arrays.copyOfRange(bytes, from, to);
    }
}
