package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** Runs a portal; {@code maxRows} 0 means all rows. */
public record Execute(String portal, int maxRows) implements FrontendMessage {
    public static Execute decode(ByteBuf body) {
        String portal = Wire.readCString(body);
        int maxRows = Wire.readInt(body);
        Wire.expectEnd(body, "Execute");
        return new Execute(portal, maxRows);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.EXECUTE);
        Wire.writeCString(out, portal);
        out.writeInt(maxRows);
        Wire.end(out, lengthIndex);
    }
}
