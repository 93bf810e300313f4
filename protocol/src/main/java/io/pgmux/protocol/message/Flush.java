package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** Asks the server to send what it has produced so far. */
public record Flush() implements FrontendMessage {
    public static final Flush INSTANCE = new Flush();

    @Override
    public void encode(ByteBuf out) {
        Wire.writeEmpty(out, MessageType.Frontend.FLUSH);
    }
}
