package io.pgmux.pool;

/** Why pgmux closed a server connection; shown in logs and counted in metrics. */
public enum CloseReason {
    /** Idle longer than server-idle-timeout, above min-size. */
    IDLE_TIMEOUT,
    /** Older than server-lifetime. */
    LIFETIME,
    /** Left in an unknown state, e.g. its client vanished mid-transaction. */
    DIRTY,
    /** The check query before reuse failed. */
    CHECK_FAILED,
    /** The server failed: I/O error, FATAL error, or an unexpected message. */
    SERVER_ERROR,
    /** The server closed the connection by itself. */
    SERVER_CLOSED,
    /** An operator asked for fresh connections. */
    RECONNECT,
    /** An operator paused the pool (PAUSE, KILL). */
    PAUSE,
    /** The pool shrank or was removed. */
    POOL_SHRUNK,
    /** A reserve server (beyond size) with no client waiting for it. */
    RESERVE,
    /** Idle, and closed to make room for another pool under max-db-connections or max-user-connections. */
    MAKE_ROOM,
    /** pgmux is stopping. */
    SHUTDOWN
}
