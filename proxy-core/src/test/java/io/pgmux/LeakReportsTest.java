package io.pgmux;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * The leak check every integration test relies on ({@link TestProxy#assertNoLeakedBuffers()}, fed by {@link
 * LeakReports}) does fail on a buffer dropped without release, so a green build means Netty saw no leak.
 */
class LeakReportsTest {
    @BeforeEach
    void forgetEarlierReports() {
        LeakReports.drain();
    }

    @RepeatedTest(5)
    void bufferDroppedWithoutReleaseFailsTheLeakCheck(RepetitionInfo repetition) {
        leakOneBuffer("repetition " + repetition.getCurrentRepetition());

        AssertionError e = assertThrows(AssertionError.class, TestProxy::assertNoLeakedBuffers);

        assertTrue(e.getMessage().contains("leaked buffer"), e.getMessage());
        assertTrue(e.getMessage().contains("LEAK"), "carries Netty's report: " + e.getMessage());
    }

    @Test
    void releasedBuffersPassTheLeakCheck() {
        for (int i = 0; i < 100; i++) {
            ByteBuf buf = ByteBufAllocator.DEFAULT.buffer(64).writeLong(i);
            buf.release();
        }

        TestProxy.assertNoLeakedBuffers();
    }

    /**
     * Allocates and forgets a buffer; its only reference dies with this frame. Netty reports a leak with the same
     * access records only once per JVM, so each call touches its buffer with its own hint.
     */
    private static void leakOneBuffer(String hint) {
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(32).writeInt(42);
        buf.touch(hint);
        buf.readByte();
    }
}
