package io.pgmux.protocol.fuzz;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one fuzz case on a worker thread with a deadline, so that a decoder stuck in a loop fails the property
 * instead of hanging the build. The worker is a daemon; one that misses its deadline is abandoned and replaced.
 */
public final class Bounded {
    /** Far more than any single case needs (they take microseconds), even under paranoid leak detection. */
    public static final Duration DEADLINE = Duration.ofSeconds(5);

    private static ExecutorService worker = newWorker();

    private Bounded() {}

    /** Runs {@code action} and returns its result; rethrows what it threw; fails after {@link #DEADLINE}. */
    public static synchronized <T> T call(String what, Callable<T> action) {
        Future<T> future = worker.submit(action);
        try {
            return future.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            worker.shutdownNow();
            worker = newWorker();
            throw new AssertionError(what + " did not return within " + DEADLINE + " (a hang)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new AssertionError(what + " failed", cause);
        }
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-case");
            t.setDaemon(true);
            return t;
        });
    }
}
