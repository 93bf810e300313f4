package io.pgmux.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.ProtocolException;
import java.util.List;

/**
 * Splits the normal-phase byte stream (type byte, 4-byte length, body) into {@link Frame}s without
 * copying: each frame is a retained slice of the read buffer. A length below 4 or above the
 * configured maximum is a protocol violation; after one, all further input is discarded.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private final int maxMessageSize;
    private boolean failed;

    /** @param maxMessageSize largest accepted message, header included */
    public FrameDecoder(int maxMessageSize) {
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
        while (in.readableBytes() >= Frame.HEADER_LENGTH) {
            int start = in.readerIndex();
            byte type = in.getByte(start);
            int length = in.getInt(start + 1);
            if (length < 4) {
                failed = true;
                throw new ProtocolException(
                        "invalid message length %d for message type %s", length, MessageType.describe(type));
            }
            if (length > maxMessageSize - 1) {
                failed = true;
                throw new ProtocolException(
                        "message of type %s is %d bytes long, more than max-message-size (%d)",
                        MessageType.describe(type), length + 1L, maxMessageSize);
            }
            if (in.readableBytes() < length + 1) {
                return;
            }
            out.add(new Frame(in.readRetainedSlice(length + 1)));
        }
    }
}
