package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** Ends an extended-protocol batch; the server answers with ReadyForQuery. */
public record Sync() implements FrontendMessage {
    public static final Sync INSTANCE = new Sync();

    @Override
    public void encode(ByteBuf out) {
        Wire.writeEmpty(out, MessageType.Frontend.SYNC);
    }
}
