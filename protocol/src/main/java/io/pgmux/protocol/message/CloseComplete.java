package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** The server closed a statement or portal (or pgmux answers for it). */
public record CloseComplete() implements BackendMessage {
    public static final CloseComplete INSTANCE = new CloseComplete();

    @Override
    public void encode(ByteBuf out) {
        Wire.writeEmpty(out, MessageType.Backend.CLOSE_COMPLETE);
    }
}
