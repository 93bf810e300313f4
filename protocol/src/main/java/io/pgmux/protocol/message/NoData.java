package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** The described statement or portal returns no rows. */
public record NoData() implements BackendMessage {
    public static final NoData INSTANCE = new NoData();

    @Override
    public void encode(ByteBuf out) {
        Wire.writeEmpty(out, MessageType.Backend.NO_DATA);
    }
}
