package io.pgmux.config;

import com.typesafe.config.Config;

/** The HTTP listener for {@code /metrics}, {@code /health} and {@code /ready} ({@code pgmux.metrics}). */
public record MetricsConfig(boolean enabled, String host, int port) {
    public MetricsConfig {
        Problems p = new Problems();
        p.notBlank("metrics.host", host);
        p.between("metrics.port", port, 0, 65535);
        p.throwIfAny();
    }

    /** Binds the {@code metrics} block. */
    public static MetricsConfig from(Config c) {
        return new MetricsConfig(c.getBoolean("enabled"), c.getString("host"), c.getInt("port"));
    }
}
