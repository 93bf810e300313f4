package io.pgmux.directory;

import java.net.InetSocketAddress;

/**
 * What {@code SHOW SERVERS} shows of one server connection, as of its last state change (login, attach, detach,
 * reset). Immutable: the connection publishes a new one; the console reads it from another event loop.
 *
 * @param name the connection's name, {@code s<id>}
 * @param user the user pgmux logs in to PostgreSQL as
 * @param database the server's database name
 * @param state {@code login}, {@code idle}, {@code active} or {@code tested} (running a reset or check query)
 * @param connectMillis when pgmux opened the connection (epoch milliseconds)
 * @param requestMillis when the connection last changed hands (epoch milliseconds)
 * @param closeNeeded pgmux is closing it
 * @param link the attached client's name, or null
 * @param remotePid the PostgreSQL backend's process id (BackendKeyData), 0 before login
 * @param tls TLS protocol and cipher, e.g. {@code TLSv1.3/TLS_AES_256_GCM_SHA384}; empty in plain text
 * @param preparedStatements statements pgmux prepared on it, as of its last detach
 */
public record ServerSnapshot(
        String name,
        String user,
        String database,
        String state,
        InetSocketAddress addr,
        InetSocketAddress localAddr,
        long connectMillis,
        long requestMillis,
        boolean closeNeeded,
        String link,
        int remotePid,
        String tls,
        String applicationName,
        int preparedStatements) {}
