package io.pgmux.pool;

import java.time.Duration;

/**
 * The settings {@link PoolState} decides with, taken from the pool's configuration.
 *
 * @param size most server connections, leased, idle and connecting together
 * @param minSize server connections kept open even when idle
 * @param serverIdleTimeout idle time after which a server above min-size is closed; zero keeps them
 * @param serverLifetime age after which a server is closed when it comes back; zero keeps them
 */
public record PoolLimits(int size, int minSize, Duration serverIdleTimeout, Duration serverLifetime) {
    public PoolLimits {
        if (size < 1 || minSize < 0 || minSize > size) {
            throw new IllegalArgumentException("invalid pool limits: size " + size + ", min-size " + minSize);
        }
    }
}
