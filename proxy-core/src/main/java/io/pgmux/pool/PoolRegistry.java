package io.pgmux.pool;

import io.netty.channel.EventLoop;
import io.pgmux.config.DatabaseConfig;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.config.UserConfig;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.server.ServerConnector;
import io.pgmux.server.ServerCredentials;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * All pools, created on first use from the configuration (a named database or the {@code "*"}
 * fallback), and the global client count checked against {@code max-client-connections}.
 */
public final class PoolRegistry {
    private final Map<PoolKey, Pool> pools = new ConcurrentHashMap<>();
    private final Map<String, byte[]> scramClientKeys = new ConcurrentHashMap<>();
    private final AtomicInteger clients = new AtomicInteger();
    private final ServerConnector connector;
    private final LongSupplier nanoClock;
    private final PgmuxMetrics metrics;
    private volatile PgmuxConfig config;

    public PoolRegistry(PgmuxConfig config, ServerConnector connector, LongSupplier nanoClock, PgmuxMetrics metrics) {
        this.config = config;
        this.connector = connector;
        this.nanoClock = nanoClock;
        this.metrics = metrics;
    }

    public PgmuxConfig config() {
        return config;
    }

    /** The pool for a database as the client named it and the user it logged in as; empty when no such database is configured. */
    public Optional<Pool> pool(String database, String user) {
        Optional<DatabaseConfig> db = config.database(database);
        if (db.isEmpty()) {
            return Optional.empty();
        }
        String serverUser = db.get().user().orElse(user);
        PoolKey key = new PoolKey(database, serverUser);
        return Optional.of(pools.computeIfAbsent(
                key, k -> new Pool(k, db.get(), target(k, db.get()), connector, nanoClock, metrics)));
    }

    private ServerConnector.Target target(PoolKey key, DatabaseConfig db) {
        String serverUser = key.user();
        Optional<String> password = db.password()
                .or(() -> Optional.ofNullable(config.auth().users().get(serverUser))
                        .map(UserConfig::password));
        ServerCredentials credentials =
                new ServerCredentials(serverUser, password, () -> Optional.ofNullable(scramClientKeys.get(serverUser)));
        return new ServerConnector.Target(
                key.toString(),
                db.host(),
                db.port(),
                db.dbname(),
                credentials,
                Map.of(),
                db.pool().serverConnectTimeout());
    }

    /** Keeps the ClientKey of a client's SCRAM login, for server logins that only have a verifier. */
    public void rememberScramClientKey(String user, byte[] clientKey) {
        scramClientKeys.put(user, clientKey.clone());
    }

    /** Counts a new client; false (and not counted) when max-client-connections is reached. */
    public boolean tryAddClient() {
        int max = config.pool().maxClientConnections();
        while (true) {
            int current = clients.get();
            if (max > 0 && current >= max) {
                return false;
            }
            if (clients.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    public void removeClient() {
        clients.decrementAndGet();
    }

    public int clientCount() {
        return clients.get();
    }

    public Collection<Pool> pools() {
        return List.copyOf(pools.values());
    }

    /** Housekeeping for every pool. */
    public void reap(EventLoop loop) {
        pools.values().forEach(pool -> pool.reap(loop));
    }

    public void closeAll(EventLoop loop) {
        pools.values().forEach(pool -> pool.close(loop));
    }
}
