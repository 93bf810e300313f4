package io.pgmux.metrics;

import java.util.Locale;

/** A client's state as {@code pgmux_client_connections{state}} counts it. */
public enum ClientState {
    /** Connected, not yet sent its first ReadyForQuery: startup, authentication, the pool's first server login. */
    LOGIN,
    /** Between transactions, no server attached. */
    IDLE,
    /** Has asked its pool for a server and not got one yet. */
    WAITING,
    /** A server is attached. */
    ACTIVE;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The tag value, e.g. {@code waiting}. */
    public String label() {
        return label;
    }
}
