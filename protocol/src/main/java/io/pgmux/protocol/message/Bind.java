package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Binds parameters to a prepared statement, creating a portal. pgmux reads only the two names;
 * {@code rest} holds the parameter formats, values and result formats exactly as sent.
 */
public record Bind(String portal, String statement, byte[] rest) implements FrontendMessage {
    public static Bind decode(ByteBuf body) {
        String portal = Wire.readCString(body);
        String statement = Wire.readCString(body);
        return new Bind(portal, statement, Wire.readBytes(body, body.readableBytes()));
    }

    /**
     * Binds text {@code values} (none null) to {@code statement}, asking for every result column in text: what pgmux
     * sends when it runs a query of its own with parameters (auth.query).
     */
    public static Bind withTextParameters(String portal, String statement, List<String> values) {
        ByteBuf rest = Unpooled.buffer();
        try {
            rest.writeShort(1).writeShort(0); // one parameter format for all: text
            rest.writeShort(values.size());
            for (String value : values) {
                byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
                rest.writeInt(bytes.length).writeBytes(bytes);
            }
            rest.writeShort(0); // result columns in text
            return new Bind(portal, statement, ByteBufUtil.getBytes(rest));
        } finally {
            rest.release();
        }
    }

    /**
     * The result-column format codes at the end of {@link #rest}, behind the parameter formats and values: none means
     * every column in text, one applies to every column, else one per column (0 text, 1 binary).
     *
     * @throws ProtocolException when {@code rest} is not parameter formats, values and result formats, exactly
     */
    public short[] resultFormats() {
        ByteBuf in = Unpooled.wrappedBuffer(rest);
        try {
            Wire.skip(in, count(in) * 2);
            int parameters = count(in);
            for (int i = 1; i <= parameters; i++) {
                int length = Wire.readInt(in);
                if (length < -1) {
                    throw new ProtocolException("parameter %d has an invalid length %d", i, length);
                }
                Wire.skip(in, Math.max(length, 0));
            }
            short[] formats = new short[count(in)];
            for (int i = 0; i < formats.length; i++) {
                formats[i] = Wire.readShort(in);
            }
            if (in.isReadable()) {
                throw new ProtocolException("%d trailing bytes after the result formats", in.readableBytes());
            }
            return formats;
        } finally {
            in.release();
        }
    }

    /** An Int16 count, unsigned as PostgreSQL reads it. */
    private static int count(ByteBuf in) {
        return Wire.readShort(in) & 0xffff;
    }

    /**
     * The whole Bind message whose body is {@code body}, with its statement name replaced by {@code statement}: the
     * portal name and everything behind the names are copied as they are, without decoding them.
     */
    public static ByteBuf withStatement(ByteBuf body, String statement, ByteBufAllocator alloc) {
        int start = body.readerIndex();
        int end = body.writerIndex();
        int portalEnd = body.indexOf(start, end, (byte) 0);
        int statementEnd = portalEnd < 0 ? -1 : body.indexOf(portalEnd + 1, end, (byte) 0);
        if (statementEnd < 0) {
            throw new ProtocolException("invalid string in message: missing terminator");
        }
        int portalLength = portalEnd + 1 - start;
        int restLength = end - (statementEnd + 1);
        ByteBuf out =
                alloc.buffer(Frame.HEADER_LENGTH + portalLength + ByteBufUtil.utf8Bytes(statement) + 1 + restLength);
        int lengthIndex = Wire.begin(out, MessageType.Frontend.BIND);
        out.writeBytes(body, start, portalLength);
        Wire.writeCString(out, statement);
        out.writeBytes(body, statementEnd + 1, restLength);
        Wire.end(out, lengthIndex);
        return out;
    }

    /** Reads just the statement name, without copying the rest. */
    public static String peekStatement(ByteBuf body) {
        ByteBuf view = body.duplicate();
        Wire.readCString(view);
        return Wire.readCString(view);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.BIND);
        Wire.writeCString(out, portal);
        Wire.writeCString(out, statement);
        out.writeBytes(rest);
        Wire.end(out, lengthIndex);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bind b
                && b.portal.equals(portal)
                && b.statement.equals(statement)
                && java.util.Arrays.equals(b.rest, rest);
    }

    @Override
    public int hashCode() {
        return portal.hashCode() * 31 + statement.hashCode();
    }

    @Override
    public String toString() {
        return "Bind[portal=" + portal + ", statement=" + statement + ", rest=<" + rest.length + " bytes>]";
    }
}
