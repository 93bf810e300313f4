package io.pgmux.client;

import io.pgmux.auth.ClientAuthenticator;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.pool.PoolRegistry;
import io.pgmux.server.ServerConnector;
import io.pgmux.tls.TlsContexts;

/**
 * What every client session shares: pools, authentication, cancel routing, the server connector, metrics, and TLS
 * towards clients.
 */
public record ClientContext(
        PoolRegistry registry,
        ClientAuthenticator authenticator,
        CancelRouter cancelRouter,
        ServerConnector connector,
        PgmuxMetrics metrics,
        TlsContexts.ClientSide tls) {}
