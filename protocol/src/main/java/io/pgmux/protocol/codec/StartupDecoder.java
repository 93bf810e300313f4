package io.pgmux.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.ProtocolException;
import io.pgmux.protocol.message.GssEncRequest;
import io.pgmux.protocol.message.SslRequest;
import io.pgmux.protocol.message.StartupMessage;
import io.pgmux.protocol.message.StartupPacket;
import java.util.List;

/**
 * Frames and decodes the untyped messages a client sends first (SSLRequest, GSSENCRequest,
 * CancelRequest, StartupMessage) into {@link StartupPacket}s. After a StartupMessage the stream
 * becomes typed, so this decoder replaces itself with a {@link FrameDecoder}; bytes already read
 * behind the StartupMessage pass on to it. Bytes behind an SSLRequest or GSSENCRequest are refused
 * (08P01): the client must wait for the answer, and after an 'S' what follows is TLS.
 */
public final class StartupDecoder extends ByteToMessageDecoder {
    /** PostgreSQL's own cap (MAX_STARTUP_PACKET_LENGTH). */
    public static final int MAX_STARTUP_PACKET_LENGTH = 10_000;

    private final int maxMessageSize;
    private boolean failed;

    /** @param maxMessageSize largest typed message accepted after startup, header included */
    public StartupDecoder(int maxMessageSize) {
        if (maxMessageSize < Frame.HEADER_LENGTH) {
            throw new IllegalArgumentException("maxMessageSize must be at least 5, got " + maxMessageSize);
        }
        this.maxMessageSize = maxMessageSize;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < 4) {
            return;
        }
        int length = in.getInt(in.readerIndex());
        if (length < 8 || length > MAX_STARTUP_PACKET_LENGTH) {
            failed = true;
            throw new ProtocolException("invalid length of startup packet: %d", length);
        }
        if (in.readableBytes() < length) {
            return;
        }
        ByteBuf packet = in.readSlice(length).skipBytes(4);
        StartupPacket decoded;
        try {
            decoded = StartupPacket.decode(packet);
        } catch (ProtocolException e) {
            failed = true;
            throw e;
        }
        if ((decoded instanceof SslRequest || decoded instanceof GssEncRequest) && in.isReadable()) {
            // The client must wait for our one-byte answer. Bytes already here were sent in plain text before
            // any handshake, and must never pass for encrypted input (CVE-2021-23214).
            failed = true;
            throw new ProtocolException(
                    "received unencrypted data after %s request",
                    decoded instanceof SslRequest ? "SSL" : "GSSAPI encryption");
        }
        out.add(decoded);
        if (decoded instanceof StartupMessage) {
            ctx.pipeline().replace(this, "frame-decoder", new FrameDecoder(maxMessageSize));
        }
    }
}
