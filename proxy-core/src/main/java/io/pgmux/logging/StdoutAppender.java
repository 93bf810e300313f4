package io.pgmux.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes log lines to stdout from a thread of its own, so that the event loops only queue an event: encoding it and
 * the write(2) happen on the {@code pgmux-log} thread, which lets lines gather for a few milliseconds after the first
 * and writes them with one write (logback's ConsoleAppender makes a write(2) per line on the logging thread; a client's login and logout lines cost
 * more than the rest of its login).
 *
 * <p>The queue is bounded ({@code queueSize}). When it is full, an event is dropped and counted, whatever its level,
 * and the next write says how many were dropped and how many of those were WARN or ERROR: no caller ever waits for
 * the terminal, and callers are event loops (a connection storm's login lines, a misbehaving client's WARN) whose
 * every other connection would wait with them. A full queue means stdout has stalled for a whole queue's worth of
 * lines, so a WARN that waited for room would only queue behind it. {@link #stop()} (logback's shutdown hook, at exit) writes
 * what is still queued, waiting up to {@code maxFlushTime} milliseconds.
 */
public final class StdoutAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    /**
     * How long the writer lets lines gather after the first one. Waking the writer for every line cost an event loop a
     * futex wake-up per line, a tenth of its CPU in a connection storm; lines now wait at most this long.
     */
    private static final long BATCH_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    /** What a dropped WARN or ERROR adds to {@link #dropped}, besides the 1 every dropped event adds. */
    private static final long ONE_WARNING = 1L << 32;

    private Encoder<ILoggingEvent> encoder;
    private int queueSize = 8192;
    private int maxFlushTime = 2000;
    private BlockingQueue<ILoggingEvent> queue;
    /**
     * Events dropped since the last write: all of them in the low 32 bits, those at WARN or above in the high 32. One
     * number, so that the writer takes both counts at once and a note never shows half of a drop.
     */
    private final AtomicLong dropped = new AtomicLong();

    private Thread writer;
    private volatile boolean stopping;
    /** Where the lines go; System.out unless a test says otherwise. */
    private PrintStream out = System.out;

    public void setEncoder(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    /** Events that may wait for the writer thread. */
    public void setQueueSize(int queueSize) {
        this.queueSize = queueSize;
    }

    /** How long {@link #stop()} may take to write what is queued, in milliseconds. */
    public void setMaxFlushTime(int maxFlushTime) {
        this.maxFlushTime = maxFlushTime;
    }

    void setOut(PrintStream out) {
        this.out = out;
    }

    @Override
    public void start() {
        if (encoder == null) {
            addError("no encoder for appender " + name);
            return;
        }
        if (queueSize < 1) {
            addError("queueSize must be at least 1, not " + queueSize);
            return;
        }
        queue = new ArrayBlockingQueue<>(queueSize);
        stopping = false;
        writer = new Thread(this::writeLoop, "pgmux-log");
        writer.setDaemon(true);
        super.start();
        writer.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        // The message and its arguments are formatted now, on the caller's thread, as they are at this moment.
        event.prepareForDeferredProcessing();
        if (queue.offer(event)) {
            return;
        }
        // Never put(): the caller may be an event loop, which must not wait for stdout.
        dropped.addAndGet(event.getLevel().isGreaterOrEqual(Level.WARN) ? ONE_WARNING + 1 : 1);
    }

    private void writeLoop() {
        List<ILoggingEvent> batch = new ArrayList<>();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
        while (!stopping || !queue.isEmpty()) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                // stop() interrupts a writer that may be waiting for events; the loop condition decides.
                continue;
            }
            if (!stopping) {
                // Let a burst gather: while this thread is not waiting on the queue, a caller's offer wakes nobody.
                LockSupport.parkNanos(BATCH_WINDOW_NANOS);
            }
            queue.drainTo(batch);
            write(batch, bytes);
            batch.clear();
            bytes.reset();
        }
    }

    /**
     * Encodes {@code events} into {@code bytes} and writes them with one write, behind a note of lines dropped since
     * the last write.
     */
    private void write(List<ILoggingEvent> events, ByteArrayOutputStream bytes) {
        long lost = dropped.getAndSet(0);
        if (lost != 0) {
            bytes.writeBytes(("pgmux: logging fell behind, " + (lost & 0xffff_ffffL) + " log lines dropped, "
                            + (lost >>> 32) + " of them WARN or ERROR\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        for (ILoggingEvent event : events) {
            try {
                bytes.writeBytes(encoder.encode(event));
            } catch (RuntimeException e) {
                addError("cannot encode a log event", e);
            }
        }
        synchronized (out) {
            try {
                bytes.writeTo(out);
            } catch (IOException e) {
                // A PrintStream does not throw; it keeps the error for checkError().
                addError("cannot write log lines", e);
            }
            out.flush();
        }
    }

    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        stopping = true;
        writer.interrupt();
        try {
            writer.join(maxFlushTime);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            addWarn("the log writer did not finish within " + maxFlushTime + " ms; " + queue.size()
                    + " events not written");
        }
        encoder.stop();
    }
}
