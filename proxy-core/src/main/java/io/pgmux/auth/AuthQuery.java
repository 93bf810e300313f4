package io.pgmux.auth;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.pgmux.config.AuthConfig;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.pool.Pool;
import io.pgmux.pool.PoolRegistry;
import io.pgmux.server.ServerConnector;
import java.util.Optional;

/**
 * Looks up the secrets of users pgmux has no entry for by running {@code auth.query} on PostgreSQL, as PgBouncer's
 * {@code auth_query} does: on a server of the pool of ({@code the client's database}, {@code auth.query-user}), which
 * logs in like any other pool (the query user's password from {@code auth.users}). Nothing is cached: each login of
 * such a user runs the query, so a password changed in PostgreSQL counts from the next login on. The configuration is
 * read at each lookup, so a reload takes effect at once.
 */
public final class AuthQuery {
    private final PoolRegistry registry;
    /** Cancels a query that outlives its deadline. */
    private final ServerConnector connector;

    public AuthQuery(PoolRegistry registry, ServerConnector connector) {
        this.registry = registry;
        this.connector = connector;
    }

    /** True when a login to {@code database} of a user without an entry looks the user up (never for the console). */
    public boolean appliesTo(String database) {
        PgmuxConfig config = registry.config();
        return config.auth().query().isPresent() && !config.admin().isAdminDatabase(database);
    }

    /**
     * Runs {@code auth.query} for {@code user} on {@code database}. The future completes on {@code loop}: with the
     * secret (an MD5 hash or a SCRAM verifier as PostgreSQL stores it), empty when the query found no row or a NULL
     * secret or when no such database is configured, or it fails with a {@code PgmuxException} (08006) naming the
     * cause. {@code clientName} is the client that waits for the answer, which SHOW SERVERS links the server to.
     */
    public Future<Optional<String>> lookup(String database, String user, EventLoop loop, String clientName) {
        PgmuxConfig config = registry.config();
        AuthConfig auth = config.auth();
        if (auth.query().isEmpty()) {
            throw new IllegalStateException("auth.query is not set");
        }
        Optional<Pool> pool = registry.pool(database, auth.queryUser().orElseThrow());
        if (pool.isEmpty()) {
            // As for an unknown user: the client is refused with 28P01 before it learns the database is unknown.
            return loop.newSucceededFuture(Optional.empty());
        }
        AuthQueryRun run = new AuthQueryRun(pool.get(), connector, auth.query().get(), user, loop, clientName);
        Future<Optional<String>> secret = run.start(config.pool().clientLoginTimeout());
        secret.addListener(f -> {
            if (secret.isSuccess() && secret.getNow().isEmpty()) {
                // Gone from PostgreSQL (or its password removed): SHOW USERS stops listing it, and no new server
                // login tries what an earlier client proved.
                registry.forgetQueriedLogin(user);
            }
        });
        return secret;
    }
}
