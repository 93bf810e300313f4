package io.pgmux.directory;

import java.net.InetSocketAddress;

/**
 * What {@code SHOW CLIENTS} shows of one client, as of its last state change (login, acquire, attach, release, pin
 * change). Immutable: the client publishes a new one on its own event loop; the console reads it from another.
 *
 * @param name the client's name, {@code c<id>}
 * @param state {@code login}, {@code idle}, {@code waiting} or {@code active}
 * @param connectMillis when the client connected (epoch milliseconds)
 * @param requestMillis when the client last asked for a server (epoch milliseconds), else its connect time
 * @param waitSinceNanos {@link System#nanoTime()} when it started waiting for a server; 0 when not waiting
 * @param link the attached server's name, or null
 * @param tls TLS protocol and cipher, e.g. {@code TLSv1.3/TLS_AES_256_GCM_SHA384}; empty in plain text
 * @param pinReasons e.g. {@code listen(x)}; empty when not pinned
 */
public record ClientSnapshot(
        String name,
        String user,
        String database,
        String state,
        InetSocketAddress addr,
        InetSocketAddress localAddr,
        long connectMillis,
        long requestMillis,
        long waitSinceNanos,
        String link,
        String tls,
        String applicationName,
        int preparedStatements,
        String pinReasons) {}
