package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** The end of COPY data from the client. */
public record CopyDone() implements FrontendMessage {
    public static final CopyDone INSTANCE = new CopyDone();

    @Override
    public void encode(ByteBuf out) {
        Wire.writeEmpty(out, MessageType.Frontend.COPY_DONE);
    }
}
