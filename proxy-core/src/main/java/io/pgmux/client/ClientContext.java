package io.pgmux.client;

import io.pgmux.admin.AdminActions;
import io.pgmux.auth.ClientAuthenticator;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.pool.PoolRegistry;
import io.pgmux.server.ServerConnector;

/**
 * What every client session shares: pools, authentication, cancel routing, the server connector, metrics, and what the
 * admin console asks of the running pgmux. (TLS towards clients is per connection: see {@link ClientInitializer}.)
 */
public record ClientContext(
        PoolRegistry registry,
        ClientAuthenticator authenticator,
        CancelRouter cancelRouter,
        ServerConnector connector,
        PgmuxMetrics metrics,
        AdminActions actions) {}
