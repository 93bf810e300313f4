package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** Asks for the description of a prepared statement or portal. */
public record Describe(TargetKind kind, String name) implements FrontendMessage {
    public static Describe decode(ByteBuf body) {
        TargetKind kind = TargetKind.of(Wire.readByte(body));
        String name = Wire.readCString(body);
        Wire.expectEnd(body, "Describe");
        return new Describe(kind, name);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.DESCRIBE);
        out.writeByte(kind.code());
        Wire.writeCString(out, name);
        Wire.end(out, lengthIndex);
    }
}
