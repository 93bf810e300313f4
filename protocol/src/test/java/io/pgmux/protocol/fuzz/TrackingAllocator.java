package io.pgmux.protocol.fuzz;

import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * An unpooled allocator that remembers every buffer it made, so that a test can check that all of them were
 * released: the inputs it wrote, and also what a decoder allocated by itself (the cumulation buffer that
 * {@code ByteToMessageDecoder} copies split input into, and that frames are sliced from). Set it on a channel with
 * {@code channel.config().setAllocator(...)} before the first write. One per test case; not thread-safe.
 */
public final class TrackingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> allocated = new ArrayList<>();

    public TrackingAllocator() {
        super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
        return track(super.compositeHeapBuffer(maxNumComponents));
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
        return track(super.compositeDirectBuffer(maxNumComponents));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    /** A buffer holding a copy of {@code bytes}, owned by the caller. */
    public ByteBuf copyOf(byte[] bytes, int from, int length) {
        return heapBuffer(length, length).writeBytes(bytes, from, length);
    }

    public int allocatedCount() {
        return allocated.size();
    }

    /** Fails when any buffer made here still has a reference count above 0. */
    public void assertAllReleased(String what) {
        for (int i = 0; i < allocated.size(); i++) {
            ByteBuf buf = allocated.get(i);
            if (buf.refCnt() != 0) {
                fail(what + ": buffer " + (i + 1) + " of " + allocated.size() + " was not released (refCnt "
                        + buf.refCnt() + ", " + buf + ")");
            }
        }
    }

    private <B extends ByteBuf> B track(B buf) {
        allocated.add(buf);
        return buf;
    }
}
