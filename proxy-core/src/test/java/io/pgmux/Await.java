package io.pgmux;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Bounded polling for the integration tests: every wait has a deadline and says what it waited for. */
final class Await {
    private static final long POLL_MILLIS = 25;

    private Await() {}

    /** Polls {@code condition} until it holds; fails after {@code timeout}. */
    static void until(String what, Duration timeout, BooleanSupplier condition) {
        until(what, timeout, condition::getAsBoolean, done -> done);
    }

    /**
     * Polls {@code probe} until {@code done} accepts its value and returns that value; fails after {@code timeout}
     * with the last value seen.
     */
    static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<T> done) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T value = probe.get();
            if (done.test(value)) {
                return value;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(
                        "timed out after " + timeout + " waiting for " + what + "; last seen: " + value);
            }
            pause(POLL_MILLIS);
        }
    }

    /** A short pause between polls; an interrupt ends the test. */
    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
