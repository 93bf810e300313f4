package io.pgmux.pool;

import java.time.Duration;

/**
 * The settings {@link PoolState} decides with, taken from the pool's configuration.
 *
 * @param size most server connections, leased, idle and connecting together, before the reserve
 * @param minSize server connections kept open even when idle
 * @param serverIdleTimeout idle time after which a server above min-size is closed; zero keeps them
 * @param serverLifetime age after which a server is closed when it comes back; zero keeps them
 * @param serverLoginRetry wait after a failed connect before the next, doubling while failures go on
 *     (up to {@link #MAX_LOGIN_RETRY}); zero retries at once
 * @param reserveSize servers the pool may open beyond {@code size} once a client has waited {@code reserveTimeout}
 * @param reserveTimeout how long the oldest waiting client waits before the reserve may be used
 */
public record PoolLimits(
        int size,
        int minSize,
        Duration serverIdleTimeout,
        Duration serverLifetime,
        Duration serverLoginRetry,
        int reserveSize,
        Duration reserveTimeout) {
    /** The longest wait between connect attempts while PostgreSQL keeps refusing. */
    public static final Duration MAX_LOGIN_RETRY = Duration.ofSeconds(15);

    public PoolLimits {
        if (size < 1 || minSize < 0 || minSize > size || reserveSize < 0) {
            throw new IllegalArgumentException(
                    "invalid pool limits: size " + size + ", min-size " + minSize + ", reserve-size " + reserveSize);
        }
    }

    /** Limits without a reserve. */
    public PoolLimits(
            int size, int minSize, Duration serverIdleTimeout, Duration serverLifetime, Duration serverLoginRetry) {
        this(size, minSize, serverIdleTimeout, serverLifetime, serverLoginRetry, 0, Duration.ZERO);
    }

    /** Limits without a login retry delay or reserve. */
    public PoolLimits(int size, int minSize, Duration serverIdleTimeout, Duration serverLifetime) {
        this(size, minSize, serverIdleTimeout, serverLifetime, Duration.ZERO);
    }

    /** These limits with a reserve. */
    public PoolLimits withReserve(int reserveSize, Duration reserveTimeout) {
        return new PoolLimits(
                size, minSize, serverIdleTimeout, serverLifetime, serverLoginRetry, reserveSize, reserveTimeout);
    }
}
