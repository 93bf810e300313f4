package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** The client is leaving. */
public record Terminate() implements FrontendMessage {
    public static final Terminate INSTANCE = new Terminate();

    @Override
    public void encode(ByteBuf out) {
        Wire.writeEmpty(out, MessageType.Frontend.TERMINATE);
    }
}
