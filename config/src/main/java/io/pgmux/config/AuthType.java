package io.pgmux.config;

/** The authentication pgmux asks of clients ({@code auth.type}). */
public enum AuthType {
    TRUST,
    PLAIN,
    MD5,
    SCRAM_SHA_256;

    /** The name in HOCON, e.g. {@code scram-sha-256}. */
    public String configName() {
        return Hocon.name(this);
    }

    /** Parses {@code trust | plain | md5 | scram-sha-256}. */
    public static AuthType parse(String value) {
        return Hocon.parse(AuthType.class, value);
    }
}
