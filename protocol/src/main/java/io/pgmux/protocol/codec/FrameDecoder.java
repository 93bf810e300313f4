package io.pgmux.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
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
 *
 * <p>The bytes of a message split across reads are gathered by {@link #CARRY_OVER}, which keeps the buffer they are
 * gathered in as small as the unread bytes.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    /**
     * Gathers a read into what is left of the previous ones. Netty's default appends to the old buffer, reallocating
     * it as it grows, and gives back the bytes already framed only when no frame still refers to them. Frames are
     * slices of that buffer on their way to the peer, so in a stream whose reads end mid-message (COPY data or a large
     * result, one read per readiness, as over a real network) that moment never came: the buffer grew by every byte
     * relayed (50 MiB in a 100 MB COPY FROM STDIN). Once some of the buffer was framed, what is left (part of one
     * message) moves to a new buffer with the read instead; the old one goes when its last frame is written. A
     * message still being gathered from the start of its buffer grows in place.
     */
    static final Cumulator CARRY_OVER = FrameDecoder::carryOver;

    private final int maxMessageSize;
    private boolean failed;

    /** @param maxMessageSize largest accepted message, header included */
    public FrameDecoder(int maxMessageSize) {
        if (maxMessageSize < Frame.HEADER_LENGTH) {
            throw new IllegalArgumentException("maxMessageSize must be at least 5, got " + maxMessageSize);
        }
        this.maxMessageSize = maxMessageSize;
        setCumulator(CARRY_OVER);
    }

    private static ByteBuf carryOver(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
        if (cumulation.readerIndex() == 0 || !cumulation.isReadable()) {
            return MERGE_CUMULATOR.cumulate(alloc, cumulation, in);
        }
        try {
            int left = cumulation.readableBytes();
            int read = in.readableBytes();
            ByteBuf next = alloc.buffer(alloc.calculateNewCapacity(left + read, Integer.MAX_VALUE));
            ByteBuf done = next; // released below: the new buffer if filling it fails, else the old one
            try {
                next.writeBytes(cumulation, cumulation.readerIndex(), left).writeBytes(in, in.readerIndex(), read);
                in.readerIndex(in.writerIndex());
                done = cumulation;
                return next;
            } finally {
                done.release();
            }
        } finally {
            in.release();
        }
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
