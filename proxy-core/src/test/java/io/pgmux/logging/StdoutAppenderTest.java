package io.pgmux.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The log writer thread: every line is written, in order; when it falls behind, lines are dropped and counted. */
class StdoutAppenderTest {
    private final LoggerContext context = new LoggerContext();
    private final Logger logger = context.getLogger("io.pgmux.client.ClientSession");

    /** Holds the writer in its first write until released. */
    private static final class GatedOutput extends OutputStream {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch released = new CountDownLatch(1);

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            entered.countDown();
            try {
                assertTrue(released.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (written) {
                written.write(b, off, len);
            }
        }

        String text() {
            synchronized (written) {
                return written.toString(StandardCharsets.UTF_8);
            }
        }
    }

    private StdoutAppender appender(int queueSize, OutputStream out) {
        context.setMDCAdapter(new LogbackMDCAdapter());
        LogFormatEncoder encoder = new LogFormatEncoder();
        encoder.setContext(context);
        encoder.setPattern("%-5level %msg%n");
        encoder.start();
        StdoutAppender appender = new StdoutAppender();
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.setQueueSize(queueSize);
        appender.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        appender.start();
        return appender;
    }

    private LoggingEvent event(Level level, String message) {
        return new LoggingEvent(Logger.FQCN, logger, level, message, null, null);
    }

    @Test
    void everyLineIsWrittenInOrderByStop() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StdoutAppender appender = appender(8192, out);
        for (int i = 0; i < 1000; i++) {
            appender.doAppend(event(i % 10 == 0 ? Level.WARN : Level.INFO, "line " + i));
        }
        appender.stop();
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(1000, lines.length);
        for (int i = 0; i < 1000; i++) {
            assertEquals((i % 10 == 0 ? "WARN " : "INFO ") + " line " + i, lines[i]);
        }
    }

    /**
     * Behind a full queue every line is dropped and counted, WARN and ERROR too, and the caller returns at once: it may
     * be an event loop, which must never wait for stdout. The next write says how many were dropped, and of what level.
     */
    @Test
    void behindAFullQueueEveryLevelIsDroppedAndCountedWithoutWaiting() throws Exception {
        GatedOutput out = new GatedOutput();
        StdoutAppender appender = appender(2, out);
        appender.doAppend(event(Level.INFO, "first"));
        assertTrue(out.entered.await(10, TimeUnit.SECONDS), "the writer is busy with the first line");
        appender.doAppend(event(Level.INFO, "queued 1"));
        appender.doAppend(event(Level.INFO, "queued 2"));
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            appender.doAppend(event(Level.INFO, "dropped"));
            appender.doAppend(event(Level.WARN, "dropped warning"));
            appender.doAppend(event(Level.ERROR, "dropped error"));
        });
        out.released.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!out.text().contains("queued 2") && System.nanoTime() < deadline) {
            Thread.sleep(5); // polling the writer's progress, bounded by the deadline
        }
        appender.doAppend(event(Level.WARN, "after"));
        appender.stop();
        assertEquals(
                "INFO  first\n"
                        + "pgmux: logging fell behind, 3 log lines dropped, 2 of them WARN or ERROR\n"
                        + "INFO  queued 1\n"
                        + "INFO  queued 2\n"
                        + "WARN  after\n",
                out.text());
    }
}
