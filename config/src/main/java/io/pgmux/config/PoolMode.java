package io.pgmux.config;

/** When a server connection goes back to its pool: at client disconnect, at transaction end, or after each statement. */
public enum PoolMode {
    SESSION,
    TRANSACTION,
    STATEMENT;

    /** The name in HOCON, e.g. {@code transaction}. */
    public String configName() {
        return Hocon.name(this);
    }

    /** Parses {@code session | transaction | statement}. */
    public static PoolMode parse(String value) {
        return Hocon.parse(PoolMode.class, value);
    }
}
