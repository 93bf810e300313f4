package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgmux.protocol.MessageType;
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
