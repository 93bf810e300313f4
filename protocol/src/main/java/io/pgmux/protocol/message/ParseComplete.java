package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** The server prepared a statement (or pgmux answers for it). */
public record ParseComplete() implements BackendMessage {
    public static final ParseComplete INSTANCE = new ParseComplete();

    @Override
    public void encode(ByteBuf out) {
        Wire.writeEmpty(out, MessageType.Backend.PARSE_COMPLETE);
    }
}
