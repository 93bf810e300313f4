package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.pgmux.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;

/** Reading and writing the protocol's primitive types: C strings and length-prefixed messages. */
public final class Wire {
    private Wire() {}

    /** Reads a NUL-terminated UTF-8 string; a missing terminator is a protocol violation. */
    public static String readCString(ByteBuf buf) {
        int end = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new ProtocolException("invalid string in message: missing terminator");
        }
        String s = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.UTF_8);
        buf.readerIndex(end + 1);
        return s;
    }

    public static void writeCString(ByteBuf out, String s) {
        ByteBufUtil.writeUtf8(out, s);
        out.writeByte(0);
    }

    /** Reads exactly {@code n} bytes, failing with a protocol violation when fewer remain. */
    public static byte[] readBytes(ByteBuf buf, int n) {
        if (n < 0 || buf.readableBytes() < n) {
            throw new ProtocolException("message too short: wanted %d bytes, %d left", n, buf.readableBytes());
        }
        byte[] bytes = new byte[n];
        buf.readBytes(bytes);
        return bytes;
    }

    /** Skips exactly {@code n} bytes, failing with a protocol violation when fewer remain. */
    public static void skip(ByteBuf buf, int n) {
        if (n < 0 || buf.readableBytes() < n) {
            throw new ProtocolException("message too short: wanted %d bytes, %d left", n, buf.readableBytes());
        }
        buf.skipBytes(n);
    }

    public static int readInt(ByteBuf buf) {
        if (buf.readableBytes() < 4) {
            throw new ProtocolException("message too short: wanted 4 bytes, %d left", buf.readableBytes());
        }
        return buf.readInt();
    }

    public static short readShort(ByteBuf buf) {
        if (buf.readableBytes() < 2) {
            throw new ProtocolException("message too short: wanted 2 bytes, %d left", buf.readableBytes());
        }
        return buf.readShort();
    }

    public static byte readByte(ByteBuf buf) {
        if (!buf.isReadable()) {
            throw new ProtocolException("message too short: wanted 1 byte, none left");
        }
        return buf.readByte();
    }

    /** Writes the type byte and a length placeholder; returns the index to pass to {@link #end}. */
    public static int begin(ByteBuf out, byte type) {
        out.writeByte(type);
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        return lengthIndex;
    }

    /** Writes a length placeholder for an untyped (startup) message. */
    public static int begin(ByteBuf out) {
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        return lengthIndex;
    }

    /** Fills in the length begun at {@code lengthIndex}: everything written since, itself included. */
    public static void end(ByteBuf out, int lengthIndex) {
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    }

    /** Writes a message with an empty body, e.g. Sync or Terminate. */
    public static void writeEmpty(ByteBuf out, byte type) {
        out.writeByte(type).writeInt(4);
    }

    /** Fails when bytes remain after a message was fully read. */
    public static void expectEnd(ByteBuf buf, String message) {
        if (buf.isReadable()) {
            throw new ProtocolException("invalid %s message: %d trailing bytes", message, buf.readableBytes());
        }
    }
}
