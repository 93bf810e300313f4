package io.pgmux.protocol.codec;

import static io.pgmux.protocol.ProtocolAssertions.assertDecoderViolation;
import static io.pgmux.protocol.WireBytes.body;
import static io.pgmux.protocol.WireBytes.concat;
import static io.pgmux.protocol.WireBytes.range;
import static io.pgmux.protocol.WireBytes.typed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FrameDecoderTest {
    private static final int MAX = 64;

    private static final byte[] QUERY_BODY = body().cstring("SELECT 1").build();
    private static final byte[] QUERY = typed('Q', QUERY_BODY);
    private static final byte[] PARSE = typed(
            'P', body().cstring("s1").cstring("SELECT $1").int16(1).int32(23).build());
    private static final byte[] SYNC = typed('S', new byte[0]);

    /** Every buffer written into a channel, checked for release after each test. */
    private final List<ByteBuf> inputs = new ArrayList<>();

    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void everyInputBufferIsReleased() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
        for (ByteBuf input : inputs) {
            assertEquals(0, input.refCnt(), "input buffer leaked");
        }
    }

    @Test
    void oneMessageBecomesOneFrameOfTheExactWireBytes() {
        EmbeddedChannel channel = channel(MAX);

        assertTrue(channel.writeInbound(input(QUERY)));

        Frame frame = channel.readInbound();
        assertEquals(MessageType.Frontend.QUERY, frame.type());
        assertArrayEquals(QUERY, ByteBufUtil.getBytes(frame.content()));
        assertArrayEquals(QUERY_BODY, ByteBufUtil.getBytes(frame.body()));
        assertEquals(QUERY.length, frame.wireLength());
        assertTrue(frame.release());
        assertNull(channel.readInbound());
        assertFalse(channel.finish());
    }

    @Test
    void coalescedMessagesBecomeFramesInOrder() {
        EmbeddedChannel channel = channel(MAX);

        assertTrue(channel.writeInbound(input(concat(PARSE, QUERY, SYNC))));

        assertFrames(channel, PARSE, QUERY, SYNC);
        assertFalse(channel.finish());
    }

    @Test
    void messageWithEmptyBodyHasEmptyBodyView() {
        EmbeddedChannel channel = channel(MAX);

        channel.writeInbound(input(SYNC));

        Frame frame = channel.readInbound();
        assertEquals(MessageType.Frontend.SYNC, frame.type());
        assertEquals(0, frame.body().readableBytes());
        assertEquals(Frame.HEADER_LENGTH, frame.wireLength());
        frame.release();
        assertFalse(channel.finish());
    }

    @Test
    void messageFedOneByteAtATimeComesOutWhole() {
        EmbeddedChannel channel = channel(MAX);
        byte[] wire = concat(PARSE, SYNC);

        for (int i = 0; i < PARSE.length - 1; i++) {
            assertFalse(channel.writeInbound(input(new byte[] {wire[i]})), "no frame before byte " + i);
        }
        assertTrue(channel.writeInbound(input(new byte[] {wire[PARSE.length - 1]})));
        for (int i = PARSE.length; i < wire.length; i++) {
            channel.writeInbound(input(new byte[] {wire[i]}));
        }

        assertFrames(channel, PARSE, SYNC);
        assertFalse(channel.finish());
    }

    @Test
    void messagesSplitAtEveryOffsetComeOutWhole() {
        byte[] wire = concat(QUERY, PARSE, SYNC);
        for (int split = 1; split < wire.length; split++) {
            EmbeddedChannel channel = channel(MAX);

            channel.writeInbound(input(range(wire, 0, split)));
            channel.writeInbound(input(range(wire, split, wire.length)));

            assertFrames(channel, QUERY, PARSE, SYNC);
            assertFalse(channel.finish(), "split at " + split);
        }
    }

    @Test
    void incompleteMessageStaysBufferedUntilTheRestArrives() {
        EmbeddedChannel channel = channel(MAX);

        assertFalse(channel.writeInbound(input(range(QUERY, 0, 4))));
        assertFalse(channel.writeInbound(input(range(QUERY, 4, QUERY.length - 1))));
        assertNull(channel.readInbound());
        assertTrue(channel.writeInbound(input(range(QUERY, QUERY.length - 1, QUERY.length))));

        assertFrames(channel, QUERY);
        assertFalse(channel.finish());
    }

    @Test
    void messageOfExactlyMaxMessageSizeIsAccepted() {
        EmbeddedChannel channel = channel(MAX);
        byte[] wire = typed('d', new byte[MAX - Frame.HEADER_LENGTH]);
        assertEquals(MAX, wire.length);

        assertTrue(channel.writeInbound(input(wire)));

        assertFrames(channel, wire);
        assertFalse(channel.finish());
    }

    @Test
    void messageOneByteOverMaxMessageSizeIsRejectedFromItsHeader() {
        EmbeddedChannel channel = channel(MAX);
        byte[] header = body().int8('d').int32(MAX).build(); // MAX + 1 bytes with the type byte

        assertDecoderViolation(() -> channel.writeInbound(input(header)), "max-message-size (" + MAX + ")");

        assertNull(channel.readInbound());
        assertFalse(channel.finish());
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 0, -1, Integer.MIN_VALUE})
    void lengthBelowFourIsRejected(int length) {
        EmbeddedChannel channel = channel(MAX);
        byte[] header = body().int8('Q').int32(length).build();

        assertDecoderViolation(() -> channel.writeInbound(input(header)), "invalid message length " + length);

        assertFalse(channel.finish());
    }

    @Test
    void framesBeforeABadHeaderAreDeliveredAndEverythingAfterIsDiscarded() {
        EmbeddedChannel channel = channel(MAX);
        byte[] bad = body().int8('Q').int32(2).build();

        assertDecoderViolation(() -> channel.writeInbound(input(concat(QUERY, bad, SYNC))), "invalid message length");
        assertFrames(channel, QUERY);

        assertFalse(channel.writeInbound(input(SYNC)));
        assertFalse(channel.writeInbound(input(concat(QUERY, PARSE))));
        assertNull(channel.readInbound());
        assertFalse(channel.finish());
    }

    @Test
    void inputAfterAnOversizedMessageIsDiscarded() {
        EmbeddedChannel channel = channel(MAX);

        assertDecoderViolation(
                () -> channel.writeInbound(input(typed('d', new byte[MAX]))), "more than max-message-size");

        assertFalse(channel.writeInbound(input(QUERY)));
        assertNull(channel.readInbound());
        assertFalse(channel.finish());
    }

    /**
     * 20 MB of 200-byte CopyData messages in reads of 65,001 bytes, so that no read ends between two messages, as in
     * a COPY FROM STDIN over a network. Each read's frames are still held (on their way to the peer) when the read
     * completes, and written and released before the next read. The buffer the decoder gathers in must not grow with
     * the stream: with Netty's own cumulator it kept every byte relayed.
     */
    @Test
    void aStreamWhoseReadsEndMidMessageDoesNotGrowTheBuffer() {
        PooledByteBufAllocator alloc = new PooledByteBufAllocator(false);
        EmbeddedChannel channel = channel(1 << 20);
        channel.config().setAllocator(alloc);
        byte[] message = typed('d', new byte[195]);
        int readSize = 65_001;
        long stream = 20L << 20;
        long maxHeld = 0;
        long frames = 0;
        byte[] messages = new byte[readSize + message.length];
        for (int i = 0; i < messages.length; i++) {
            messages[i] = message[i % message.length];
        }
        for (long offset = 0; offset < stream; offset += readSize) {
            ByteBuf read = alloc.heapBuffer(readSize);
            read.writeBytes(messages, (int) (offset % message.length), readSize);
            channel.writeInbound(read);
            maxHeld = Math.max(maxHeld, alloc.metric().usedHeapMemory());
            for (Frame frame = channel.readInbound(); frame != null; frame = channel.readInbound()) {
                assertEquals('d', frame.type());
                assertEquals(message.length, frame.wireLength());
                frame.release();
                frames++;
            }
        }
        long reads = (stream + readSize - 1) / readSize;
        assertEquals(reads * readSize / message.length, frames, "every whole message became a frame");
        assertTrue(maxHeld <= 8 << 20, "the decoder held " + (maxHeld >> 20) + " MiB for a 20 MiB stream");
    }

    @Test
    void maximumBelowAHeaderIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new FrameDecoder(4));
    }

    private EmbeddedChannel channel(int maxMessageSize) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(maxMessageSize));
        channels.add(channel);
        return channel;
    }

    private ByteBuf input(byte[] bytes) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        inputs.add(buf);
        return buf;
    }

    /** Reads one frame per expected message, compares the wire bytes and releases the frame. */
    static void assertFrames(EmbeddedChannel channel, byte[]... expected) {
        for (byte[] wire : expected) {
            Frame frame = channel.readInbound();
            assertArrayEquals(wire, frame == null ? null : ByteBufUtil.getBytes(frame.content()));
            assertEquals(wire[0], frame.type());
            // Frames cut from one read share its reference count, so only the last release frees it;
            // the test's @AfterEach checks that every input ends at refCnt 0.
            frame.release();
        }
        assertNull(channel.readInbound(), "no more frames");
    }
}
