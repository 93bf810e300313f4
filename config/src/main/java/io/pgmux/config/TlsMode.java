package io.pgmux.config;

/** A TLS mode, with libpq's {@code sslmode} names ({@code disable} … {@code verify-full}). */
public enum TlsMode {
    DISABLE,
    ALLOW,
    PREFER,
    REQUIRE,
    VERIFY_CA,
    VERIFY_FULL;

    /** The name in HOCON, e.g. {@code verify-full}. */
    public String configName() {
        return Hocon.name(this);
    }

    /** Parses {@code disable | allow | prefer | require | verify-ca | verify-full}. */
    public static TlsMode parse(String value) {
        return Hocon.parse(TlsMode.class, value);
    }
}
