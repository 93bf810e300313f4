package io.pgmux.protocol;

import static io.pgmux.protocol.WireBytes.body;
import static io.pgmux.protocol.WireBytes.typed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class FrameTest {
    private static final byte[] QUERY_BODY = body().cstring("SELECT 1").build();
    private static final byte[] QUERY = typed('Q', QUERY_BODY);

    @Test
    void bodyIsAViewThatSharesTheFramesReferenceCount() {
        ByteBuf wire = Unpooled.wrappedBuffer(QUERY);
        Frame frame = new Frame(wire);

        ByteBuf body = frame.body();

        assertArrayEquals(QUERY_BODY, ByteBufUtil.getBytes(body));
        assertEquals(0, frame.content().readerIndex(), "reading the body leaves the frame untouched");
        assertTrue(body.release(), "releasing the view releases the frame");
        assertEquals(0, frame.refCnt());
    }

    @Test
    void bodyViewHonoursTheReaderIndexOfTheWire() {
        ByteBuf wire = Unpooled.wrappedBuffer(WireBytes.concat(new byte[] {9, 9}, QUERY));
        wire.skipBytes(2);
        Frame frame = new Frame(wire);

        assertEquals('Q', frame.type());
        assertArrayEquals(QUERY_BODY, ByteBufUtil.getBytes(frame.body()));
        assertEquals(QUERY.length, frame.wireLength());
        assertTrue(frame.release());
    }

    @Test
    void retainedDuplicateIsAFrameThatNeedsItsOwnRelease() {
        Frame frame = new Frame(Unpooled.wrappedBuffer(QUERY));

        Frame duplicate = frame.retainedDuplicate();

        assertEquals(2, frame.refCnt());
        assertEquals(frame.type(), duplicate.type());
        assertArrayEquals(QUERY, ByteBufUtil.getBytes(duplicate.content()));
        frame.release();
        assertTrue(duplicate.release());
    }

    @Test
    void copyIsAnIndependentFrame() {
        Frame frame = new Frame(Unpooled.wrappedBuffer(QUERY));

        Frame copy = assertInstanceOf(Frame.class, frame.copy());

        assertTrue(frame.release());
        assertArrayEquals(QUERY, ByteBufUtil.getBytes(copy.content()));
        assertTrue(copy.release());
    }

    @Test
    void retainReturnsTheSameFrame() {
        Frame frame = new Frame(Unpooled.wrappedBuffer(QUERY));

        assertSame(frame, frame.retain());
        assertEquals(2, frame.refCnt());
        frame.release(2);
    }

    @Test
    void toStringNamesTheTypeAndSizeButNotTheContent() {
        Frame frame = new Frame(Unpooled.wrappedBuffer(QUERY));

        assertEquals("Frame('Q', " + QUERY.length + " bytes)", frame.toString());
        frame.release();
    }
}
