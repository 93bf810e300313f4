package io.pgmux.admin;

import java.util.concurrent.CompletableFuture;

/**
 * What the console asks of the running pgmux beyond its pools: stopping, reloading the configuration, and closing the
 * clients of a killed database. Implemented by {@code PgmuxServer}.
 */
public interface AdminActions {
    /** Drains and stops pgmux, as on SIGTERM; called on a thread of its own, never an event loop. */
    void shutdown();

    /**
     * Re-reads and applies the configuration off the event loops; fails with a {@code PgmuxException} naming the
     * invalid keys when the new configuration is refused (the running one stays in force).
     */
    CompletableFuture<Void> reload();

    /** Closes every client of {@code database} at once (KILL); their servers close as they are released. */
    void killClients(String database);
}
