package io.pgmux.protocol.codec;

import io.netty.buffer.AbstractByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Merges writes of buffers that lie next to each other in one underlying buffer into one write. A proxy relays the
 * messages it read as slices of its read buffer ({@link FrameDecoder}), one write per message; neighbours from one
 * read become one slice again here, so a burst of rows costs one entry in the outbound buffer, not one per row.
 *
 * <p>Only void-promise writes of direct buffers with a memory address are merged; anything else first passes on what
 * is held, then itself, so the order of bytes never changes. What is held goes on at the next write that does not
 * fit, at flush and at close; the handler owns it until then (and releases it when removed).
 */
public final class WriteCoalescer extends ChannelOutboundHandlerAdapter {
    /** The first buffer of the run held back; it keeps {@link #root} alive for the whole run. */
    private ByteBuf first;
    /** The buffer {@link #first} is a view of, or null when the run cannot grow. */
    private ByteBuf root;
    /** A leak-detection wrapper lies between {@link #first} and {@link #root} (a sampled buffer). */
    private boolean rootTracked;

    private long runStart;
    private int runLength;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf) || !promise.isVoid()) {
            passOn(ctx);
            ctx.write(msg, promise);
            return;
        }
        if (root != null && buf.hasMemoryAddress() && rootOf(buf) == root) {
            long start = buf.memoryAddress() + buf.readerIndex();
            if (start == runStart + runLength) {
                // Right behind the run, in the same buffer, which first keeps alive: one more slice is not needed.
                runLength += buf.readableBytes();
                buf.release();
                return;
            }
        }
        passOn(ctx);
        hold(buf);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        passOn(ctx);
        ctx.flush();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        passOn(ctx);
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (first != null) {
            first.release();
            first = null;
            root = null;
        }
    }

    private void hold(ByteBuf buf) {
        first = buf;
        root = null;
        if (buf.hasMemoryAddress()) {
            ByteBuf r = rootOf(buf);
            if (r != buf && r.hasMemoryAddress()) {
                root = r;
                rootTracked = isTracked(buf);
                runStart = buf.memoryAddress() + buf.readerIndex();
                runLength = buf.readableBytes();
            }
        }
    }

    private void passOn(ChannelHandlerContext ctx) {
        if (first == null) {
            return;
        }
        ByteBuf held = first;
        boolean merged = root != null && runLength != held.readableBytes();
        ByteBuf out = merged ? root.retainedSlice((int) (runStart - root.memoryAddress()), runLength) : held;
        first = null;
        root = null;
        if (merged && rootTracked) {
            // The run goes out as one slice of the root buffer. The first buffer keeps its reference until that
            // slice is released (before its promise completes, however the write ends), so the root's last release
            // still goes through the leak-detection wrapper it was read through, as Netty's leak detection expects.
            ctx.write(out).addListener(written -> held.release());
        } else if (merged) {
            // No wrapper to go through (the usual, unsampled case): the slice keeps the root alive by itself.
            held.release();
            ctx.write(out, ctx.voidPromise());
        } else {
            ctx.write(out, ctx.voidPromise());
        }
    }

    /**
     * Whether a wrapper is among the views between buf and its root: Netty's leak-detection wrappers (a sampled
     * buffer) are the views that are not an {@link AbstractByteBuf}, as slices and pooled buffers are.
     */
    private static boolean isTracked(ByteBuf buf) {
        for (ByteBuf current = buf; current != null; current = current.unwrap()) {
            if (!(current instanceof AbstractByteBuf)) {
                return true;
            }
        }
        return false;
    }

    /** The buffer at the end of a chain of views (slices, leak-detection wrappers). */
    private static ByteBuf rootOf(ByteBuf buf) {
        ByteBuf current = buf;
        for (ByteBuf next = current.unwrap(); next != null; next = next.unwrap()) {
            current = next;
        }
        return current;
    }
}
