package io.pgmux.client;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A moment after which something must happen unless it is moved or withdrawn first, on one event loop. Built for
 * deadlines that move on every transaction (client-idle-timeout, query-timeout): moving it later costs a field write,
 * not a new timer. The one timer it keeps fires at the earliest deadline set since, and when the deadline has moved
 * on it sleeps again for the rest. Touched only on its loop.
 */
final class Deadline {
    private final EventLoop loop;
    private final Runnable onDue;
    private ScheduledFuture<?> timer;
    private long timerAtNanos;
    private long dueNanos;
    private boolean armed;

    Deadline(EventLoop loop, Runnable onDue) {
        this.loop = loop;
        this.onDue = onDue;
    }

    /** Runs {@code onDue} at {@code dueNanos} ({@link System#nanoTime()}), replacing any earlier deadline. */
    void at(long dueNanos) {
        this.dueNanos = dueNanos;
        armed = true;
        if (timer == null || dueNanos - timerAtNanos < 0) {
            if (timer != null) {
                timer.cancel(false);
            }
            schedule(dueNanos - System.nanoTime());
        }
    }

    /** Withdraws the deadline; the timer, if any, stays and finds nothing to do. */
    void disarm() {
        armed = false;
    }

    boolean isArmed() {
        return armed;
    }

    /** Withdraws the deadline and stops the timer (the client is gone). */
    void cancel() {
        armed = false;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void schedule(long delayNanos) {
        long delay = Math.max(0, delayNanos);
        timerAtNanos = System.nanoTime() + delay;
        timer = loop.schedule(this::fire, delay, TimeUnit.NANOSECONDS);
    }

    private void fire() {
        timer = null;
        if (!armed) {
            return;
        }
        long left = dueNanos - System.nanoTime();
        if (left > 0) {
            schedule(left);
            return;
        }
        armed = false;
        onDue.run();
    }
}
