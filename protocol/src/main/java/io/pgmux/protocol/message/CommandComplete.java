package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** A command finished; the tag names it, e.g. {@code SELECT 3} or {@code SHOW}. */
public record CommandComplete(String tag) implements BackendMessage {
    public static CommandComplete decode(ByteBuf body) {
        String tag = Wire.readCString(body);
        Wire.expectEnd(body, "CommandComplete");
        return new CommandComplete(tag);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Backend.COMMAND_COMPLETE);
        Wire.writeCString(out, tag);
        Wire.end(out, lengthIndex);
    }
}
