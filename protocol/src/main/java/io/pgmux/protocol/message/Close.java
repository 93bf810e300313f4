package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** Closes a prepared statement or portal. */
public record Close(TargetKind kind, String name) implements FrontendMessage {
    public static Close decode(ByteBuf body) {
        TargetKind kind = TargetKind.of(Wire.readByte(body));
        String name = Wire.readCString(body);
        Wire.expectEnd(body, "Close");
        return new Close(kind, name);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.CLOSE);
        out.writeByte(kind.code());
        Wire.writeCString(out, name);
        Wire.end(out, lengthIndex);
    }
}
