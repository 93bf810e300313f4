package io.pgmux.config;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.Optional;

/** TLS towards clients, where pgmux is the server, and towards PostgreSQL, where pgmux is the client ({@code pgmux.tls}). */
public record TlsConfig(ClientTls client, ServerTls server) {
    public TlsConfig {
        Problems p = new Problems();
        p.notNull("tls.client", client);
        p.notNull("tls.server", server);
        p.throwIfAny();
    }

    /** Binds the {@code tls} block. */
    public static TlsConfig from(Config c) {
        Problems p = new Problems();
        ClientTls client = p.collect(() -> ClientTls.from(c.getConfig("client")));
        ServerTls server = p.collect(() -> ServerTls.from(c.getConfig("server")));
        p.throwIfAny();
        return new TlsConfig(client, server);
    }

    /** TLS on client connections: pgmux's certificate and key, and the CAs client certificates must chain to. */
    public record ClientTls(TlsMode mode, Optional<Path> cert, Optional<Path> key, Optional<Path> ca) {
        public ClientTls {
            Problems p = new Problems();
            p.notNull("tls.client.mode", mode);
            boolean enabled = mode != null && mode != TlsMode.DISABLE;
            boolean verifies = mode == TlsMode.VERIFY_CA || mode == TlsMode.VERIFY_FULL;
            p.check(
                    !enabled || cert.isPresent(),
                    "tls.client.cert",
                    "must be set when tls.client.mode is " + name(mode));
            p.check(!enabled || key.isPresent(), "tls.client.key", "must be set when tls.client.mode is " + name(mode));
            p.check(!verifies || ca.isPresent(), "tls.client.ca", "must be set when tls.client.mode is " + name(mode));
            p.throwIfAny();
        }

        /** Binds the {@code tls.client} block. */
        public static ClientTls from(Config c) {
            return new ClientTls(TlsMode.parse(c.getString("mode")), path(c, "cert"), path(c, "key"), path(c, "ca"));
        }
    }

    /** TLS on server connections: the mode, and the CAs PostgreSQL's certificate must chain to. */
    public record ServerTls(TlsMode mode, Optional<Path> ca) {
        public ServerTls {
            Problems p = new Problems();
            p.notNull("tls.server.mode", mode);
            p.throwIfAny();
        }

        /** Binds the {@code tls.server} block. */
        public static ServerTls from(Config c) {
            return new ServerTls(TlsMode.parse(c.getString("mode")), path(c, "ca"));
        }
    }

    private static Optional<Path> path(Config c, String key) {
        return Hocon.optional(c, key).map(Path::of);
    }

    private static String name(TlsMode mode) {
        return mode == null ? "null" : mode.configName();
    }
}
