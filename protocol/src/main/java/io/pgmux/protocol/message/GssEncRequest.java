package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;

/** A client asks for GSSAPI encryption; pgmux always answers 'N'. */
public record GssEncRequest() implements StartupPacket {
    public static final GssEncRequest INSTANCE = new GssEncRequest();

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(8).writeInt(GSSENC_REQUEST_CODE);
    }
}
