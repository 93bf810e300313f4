package io.pgmux.config;

import com.typesafe.config.Config;

/** Where pgmux accepts client connections ({@code pgmux.listen}). */
public record ListenConfig(String host, int port, int backlog) {
    public ListenConfig {
        Problems p = new Problems();
        p.notBlank("listen.host", host);
        p.between("listen.port", port, 0, 65535);
        p.atLeast("listen.backlog", backlog, 1);
        p.throwIfAny();
    }

    /** Binds the {@code listen} block. */
    public static ListenConfig from(Config c) {
        return new ListenConfig(c.getString("host"), c.getInt("port"), c.getInt("backlog"));
    }
}
