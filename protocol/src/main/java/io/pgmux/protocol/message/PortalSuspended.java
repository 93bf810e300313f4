package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/**
 * An Execute reached its row limit: sent instead of CommandComplete, and a later Execute of the same portal goes on
 * from the next row.
 */
public record PortalSuspended() implements BackendMessage {
    public static final PortalSuspended INSTANCE = new PortalSuspended();

    @Override
    public void encode(ByteBuf out) {
        Wire.writeEmpty(out, MessageType.Backend.PORTAL_SUSPENDED);
    }
}
