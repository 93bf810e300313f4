package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;

/** A client asks for TLS before its StartupMessage. */
public record SslRequest() implements StartupPacket {
    public static final SslRequest INSTANCE = new SslRequest();

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(8).writeInt(SSL_REQUEST_CODE);
    }
}
