package io.pgmux.protocol.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ResourceLeakDetector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WriteCoalescerTest {
    private final EmbeddedChannel channel = new EmbeddedChannel(new WriteCoalescer());
    private final ByteBuf read = PooledByteBufAllocator.DEFAULT.directBuffer(64);

    WriteCoalescerTest() {
        read.writeCharSequence("aaaabbbbccccddddeeee", StandardCharsets.US_ASCII);
    }

    @AfterEach
    void everythingIsReleased() {
        read.release();
        channel.finishAndReleaseAll();
        assertEquals(0, read.refCnt(), "the read buffer is still referenced");
    }

    @Test
    void neighboursInOneBufferGoOutAsOneWrite() {
        channel.write(read.retainedSlice(0, 4), channel.voidPromise());
        channel.write(read.retainedSlice(4, 4), channel.voidPromise());
        channel.write(read.retainedSlice(8, 4), channel.voidPromise());
        channel.flush();

        assertEquals(List.of("aaaabbbbcccc"), written());
    }

    @Test
    void aGapStartsANewWrite() {
        channel.write(read.retainedSlice(0, 4), channel.voidPromise());
        channel.write(read.retainedSlice(8, 4), channel.voidPromise());
        channel.write(read.retainedSlice(12, 4), channel.voidPromise());
        channel.write(read.retainedSlice(4, 4), channel.voidPromise());
        channel.flush();

        assertEquals(List.of("aaaa", "ccccdddd", "bbbb"), written());
    }

    @Test
    void otherWritesKeepTheirPlace() {
        channel.write(read.retainedSlice(0, 4), channel.voidPromise());
        channel.write(Unpooled.copiedBuffer("X", StandardCharsets.US_ASCII), channel.voidPromise());
        channel.write(read.retainedSlice(4, 4), channel.voidPromise());
        channel.write(read.retainedSlice(8, 4), channel.newPromise());
        channel.write(read.retainedSlice(12, 4), channel.voidPromise());
        channel.writeAndFlush(read.retainedSlice(16, 4), channel.voidPromise());

        assertEquals(List.of("aaaa", "X", "bbbb", "cccc", "ddddeeee"), written());
    }

    @Test
    void nothingIsHeldAfterAFlushAndWhatIsHeldIsReleasedWithTheHandler() {
        channel.writeAndFlush(read.retainedSlice(0, 4), channel.voidPromise());
        assertEquals(List.of("aaaa"), written());
        assertEquals(1, read.refCnt());

        channel.write(read.retainedSlice(4, 4), channel.voidPromise());
        channel.write(read.retainedSlice(8, 4), channel.voidPromise());
        assertEquals(2, read.refCnt(), "the run holds one reference, not one per write");
        channel.pipeline().remove(WriteCoalescer.class);

        assertEquals(1, read.refCnt());
    }

    @Test
    void anUntrackedBufferGoesOutAsOneWriteAndIsFreedWithIt() {
        // Most buffers escape Netty's leak-detection sampling: no wrapper, so the merged slice alone keeps the root.
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        ByteBuf untracked;
        try {
            untracked = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
        untracked.writeCharSequence("xxxxyyyyzzzz", StandardCharsets.US_ASCII);

        channel.write(untracked.retainedSlice(0, 4), channel.voidPromise());
        channel.write(untracked.retainedSlice(4, 4), channel.voidPromise());
        channel.write(untracked.retainedSlice(8, 4), channel.voidPromise());
        assertEquals(2, untracked.refCnt(), "its own reference and the one the held run keeps");
        channel.flush();

        assertEquals(List.of("xxxxyyyyzzzz"), written());
        assertEquals(1, untracked.refCnt(), "only the reader's own reference is left");
        untracked.release();
    }

    private List<String> written() {
        List<String> out = new ArrayList<>();
        for (ByteBuf buf = channel.readOutbound(); buf != null; buf = channel.readOutbound()) {
            byte[] bytes = ByteBufUtil.getBytes(buf);
            buf.release();
            out.add(new String(bytes, StandardCharsets.US_ASCII));
        }
        assertArrayEquals(new Object[0], channel.outboundMessages().toArray());
        return out;
    }
}
