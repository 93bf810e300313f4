package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

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
