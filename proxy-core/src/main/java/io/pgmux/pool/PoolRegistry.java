package io.pgmux.pool;

import io.netty.channel.EventLoop;
import io.pgmux.config.DatabaseConfig;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.config.UserConfig;
import io.pgmux.directory.SessionDirectory;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.server.ServerConnector;
import io.pgmux.server.ServerCredentials;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * All pools, created on first use from the configuration (a named database or the {@code "*"}
 * fallback), and the global client count checked against {@code max-client-connections}.
 */
public final class PoolRegistry {
    private final Map<PoolKey, Pool> pools = new ConcurrentHashMap<>();
    private final Map<String, byte[]> scramClientKeys = new ConcurrentHashMap<>();
    /** What the last client login of each user found by auth.query taught pgmux to log in to PostgreSQL with. */
    private final Map<String, ServerCredentials.Secret> queriedSecrets = new ConcurrentHashMap<>();

    private final AtomicInteger clients = new AtomicInteger();
    /** Server connections per database (max-db-connections) and per server user (max-user-connections). */
    private final Map<String, ConnectionBudget> dbBudgets = new ConcurrentHashMap<>();

    private final Map<String, ConnectionBudget> userBudgets = new ConcurrentHashMap<>();
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

    /** The live clients and servers of this pgmux (SHOW CLIENTS, SHOW SERVERS). */
    public SessionDirectory directory() {
        return connector.directory();
    }

    /**
     * The pool for a database as the client named it and the user it logged in as; empty when no such database is
     * configured. The pool runs with that user's settings ({@link PgmuxConfig#poolFor}): the database's, with the
     * user's own {@code auth.users.<user>.pool} overrides on top.
     */
    public Optional<Pool> pool(String database, String user) {
        Optional<DatabaseConfig> db = config.database(database);
        if (db.isEmpty()) {
            return Optional.empty();
        }
        String serverUser = db.get().user().orElse(user);
        // Where the database forces a server user, the pool overrides of the client's user apply, not those of the
        // forced one. A client with overrides of its own therefore gets a pool of its own, keyed by its name (still
        // logging in as the forced user): sharing the (database, forced user) pool would leave its size and mode to
        // whichever client came first. Clients without overrides share that pool, which runs with the forced user's
        // overrides if it has an entry with some. Either way a key always stands for the same settings.
        String poolUser = hasPoolOverrides(user) ? user : serverUser;
        PoolKey key = new PoolKey(database, poolUser);
        return Optional.of(pools.computeIfAbsent(key, k -> {
            DatabaseConfig settings = db.get().withPool(config.poolFor(db.get(), k.user()));
            return new Pool(
                    k,
                    settings,
                    target(k, serverUser, settings),
                    connector,
                    nanoClock,
                    metrics,
                    dbBudgets.computeIfAbsent(database, name -> new ConnectionBudget("database " + name)),
                    userBudgets.computeIfAbsent(serverUser, name -> new ConnectionBudget("user " + name)));
        }));
    }

    private boolean hasPoolOverrides(String user) {
        UserConfig entry = config.auth().users().get(user);
        return entry != null && entry.pool().isPresent();
    }

    private ServerConnector.Target target(PoolKey key, String serverUser, DatabaseConfig db) {
        Optional<String> password = db.password()
                .or(() -> Optional.ofNullable(config.auth().users().get(serverUser))
                        .map(UserConfig::password));
        // A user pgmux has no password for logs in with what its clients' logins found by auth.query, if any.
        Supplier<ServerCredentials.Secret> secret = password.isPresent()
                ? () -> new ServerCredentials.Secret(password, Optional.ofNullable(scramClientKeys.get(serverUser)))
                : () -> queriedSecrets.getOrDefault(serverUser, ServerCredentials.Secret.NONE);
        ServerCredentials credentials = new ServerCredentials(serverUser, secret);
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

    /**
     * Keeps what a client's login as {@code user}, whose secret auth.query found, lets pgmux log in to PostgreSQL
     * with: {@code password} (the verifier, MD5 hash or plain password) and, for a verifier, the client's ClientKey.
     * The two are kept as one, so that a server login never pairs a new verifier with an old key.
     */
    public void rememberQueriedLogin(String user, String password, Optional<byte[]> scramClientKey) {
        queriedSecrets.put(
                user, new ServerCredentials.Secret(Optional.of(password), scramClientKey.map(byte[]::clone)));
    }

    /** The users auth.query found that have logged in since pgmux started (SHOW USERS). */
    public Set<String> queriedUsers() {
        return Set.copyOf(queriedSecrets.keySet());
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
