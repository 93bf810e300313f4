package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** The server bound a portal. */
public record BindComplete() implements BackendMessage {
    public static final BindComplete INSTANCE = new BindComplete();

    @Override
    public void encode(ByteBuf out) {
        Wire.writeEmpty(out, MessageType.Backend.BIND_COMPLETE);
    }
}
