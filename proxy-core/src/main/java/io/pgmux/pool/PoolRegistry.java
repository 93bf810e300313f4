package io.pgmux.pool;

import io.netty.channel.EventLoop;
import io.pgmux.config.DatabaseConfig;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.config.UserConfig;
import io.pgmux.directory.SessionDirectory;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.SqlState;
import io.pgmux.server.ServerConnector;
import io.pgmux.server.ServerCredentials;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All pools, created on first use from the configuration (a named database or the {@code "*"}
 * fallback), and the global client count checked against {@code max-client-connections}.
 */
public final class PoolRegistry {
    private static final Logger log = LoggerFactory.getLogger(PoolRegistry.class);
    private final Map<PoolKey, Pool> pools = new ConcurrentHashMap<>();
    /** Pools of databases a reload removed, still serving the clients they had; closed once those left. */
    private final Set<Pool> retired = ConcurrentHashMap.newKeySet();
    /** Databases paused by PAUSE db or KILL db; pools created for them start paused. */
    private final Set<String> pausedDatabases = ConcurrentHashMap.newKeySet();
    /** PAUSE without a database: every pool, also those created later. */
    private volatile boolean allPaused;

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
        PgmuxConfig config = this.config;
        Optional<DatabaseConfig> db = config.database(database);
        if (db.isEmpty()) {
            return Optional.empty();
        }
        Pool existing = pools.get(new PoolKey(database, poolUser(config, db.get(), user)));
        if (existing != null) {
            return Optional.of(existing);
        }
        return create(database, user);
    }

    /**
     * Creates a pool under the lock {@link #reconfigure} holds, with the configuration in force then: a pool created
     * while a reload runs gets the new settings (it is created after the reload, which then has nothing to tell it),
     * never the old ones.
     */
    private synchronized Optional<Pool> create(String database, String user) {
        PgmuxConfig config = this.config;
        Optional<DatabaseConfig> db = config.database(database);
        if (db.isEmpty()) {
            return Optional.empty();
        }
        String serverUser = db.get().user().orElse(user);
        PoolKey key = new PoolKey(database, poolUser(config, db.get(), user));
        Pool existing = pools.get(key);
        if (existing != null) {
            return Optional.of(existing);
        }
        DatabaseConfig settings = db.get().withPool(config.poolFor(db.get(), key.user()));
        Pool pool = new Pool(
                key,
                settings,
                target(config, key, serverUser, settings),
                connector,
                nanoClock,
                metrics,
                dbBudget(database, db.get()),
                userBudget(config, serverUser));
        pools.put(key, pool);
        if (isPaused(database)) {
            pool.startPaused();
        }
        return Optional.of(pool);
    }

    /**
     * The user a client's pool is keyed by. Where the database forces a server user, the pool overrides of the
     * client's user apply, not those of the forced one. A client with overrides of its own therefore gets a pool of its
     * own, keyed by its name (still logging in as the forced user): sharing the (database, forced user) pool would leave
     * its size and mode to whichever client came first. Clients without overrides share that pool, which runs with the
     * forced user's overrides if it has an entry with some. Either way a key always stands for the same settings.
     */
    private static String poolUser(PgmuxConfig config, DatabaseConfig db, String user) {
        UserConfig entry = config.auth().users().get(user);
        boolean hasOverrides = entry != null && entry.pool().isPresent();
        return hasOverrides ? user : db.user().orElse(user);
    }

    /** The budget of all pools of {@code database} (max-db-connections, set for the database, not for a user). */
    private ConnectionBudget dbBudget(String database, DatabaseConfig db) {
        return dbBudgets.computeIfAbsent(
                database,
                name -> new ConnectionBudget("database " + name, db.pool().maxDbConnections()));
    }

    /** The budget of all pools logging in as {@code serverUser}, over all databases (max-user-connections). */
    private ConnectionBudget userBudget(PgmuxConfig config, String serverUser) {
        return userBudgets.computeIfAbsent(
                serverUser, name -> new ConnectionBudget("user " + name, maxUserConnections(config, name)));
    }

    /** The server user's own max-user-connections: its auth.users entry's, else pgmux.pool's. */
    private static int maxUserConnections(PgmuxConfig config, String serverUser) {
        return Optional.ofNullable(config.auth().users().get(serverUser))
                .flatMap(UserConfig::pool)
                .map(overrides -> overrides.over(config.pool()))
                .orElse(config.pool())
                .maxUserConnections();
    }

    /**
     * Takes a reloaded configuration. Pools of databases that are still configured get their new settings (a smaller
     * size closes surplus servers as they are released; a pool whose server moved replaces its servers, as RECONNECT
     * does, and draws on the budget of its new server user); pools of removed databases keep serving the clients they
     * have and close once those are gone, while new clients of those databases get 3D000. Every budget takes its new
     * limit. Holds the lock pools are created under, so that none is created with the old settings meanwhile.
     */
    public synchronized void reconfigure(PgmuxConfig next, EventLoop loop) {
        this.config = next;
        dbBudgets.forEach((database, budget) ->
                next.database(database).ifPresent(db -> budget.limit(db.pool().maxDbConnections())));
        userBudgets.forEach((serverUser, budget) -> budget.limit(maxUserConnections(next, serverUser)));
        for (Pool pool : pools.values()) {
            Optional<DatabaseConfig> db = next.database(pool.key().database());
            if (db.isEmpty()) {
                pools.remove(pool.key(), pool);
                retired.add(pool);
                log.info("pool {} retired: its database is no longer configured", pool.key());
                continue;
            }
            DatabaseConfig settings =
                    db.get().withPool(next.poolFor(db.get(), pool.key().user()));
            String serverUser = db.get().user().orElse(pool.key().user());
            pool.reconfigure(
                    settings, target(next, pool.key(), serverUser, settings), userBudget(next, serverUser), loop);
        }
        // A limit may have been raised: pools waiting for room try again, now that all have their new settings.
        dbBudgets.values().forEach(ConnectionBudget::wake);
        userBudgets.values().forEach(ConnectionBudget::wake);
    }

    // ---- PAUSE, RESUME, RECONNECT, KILL ----------------------------------------------------------

    /**
     * PAUSE [db]: completes once every server of the pool(s) was released by its client and closed. Fails at once
     * for an unknown database or one already paused.
     */
    public synchronized CompletableFuture<Void> pause(Optional<String> database, EventLoop loop) {
        if (database.isEmpty()) {
            if (allPaused) {
                throw new PgmuxException(SqlState.OBJECT_IN_USE, "already suspended/paused");
            }
            allPaused = true;
        } else {
            String db = known(database.get());
            if (isPaused(db)) {
                throw new PgmuxException(SqlState.OBJECT_IN_USE, "database %s is already paused", db);
            }
            pausedDatabases.add(db);
        }
        List<CompletableFuture<Void>> drained = new ArrayList<>();
        for (Pool pool : poolsOf(database)) {
            drained.add(pool.pause(loop));
        }
        return CompletableFuture.allOf(drained.toArray(CompletableFuture[]::new));
    }

    /** RESUME [db]: clients that waited get servers. Fails for an unknown database or one not paused. */
    public synchronized void resume(Optional<String> database, EventLoop loop) {
        if (database.isEmpty()) {
            if (!allPaused && pausedDatabases.isEmpty()) {
                throw new PgmuxException(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, "pooler is not paused/suspended");
            }
            allPaused = false;
            pausedDatabases.clear();
        } else {
            String db = known(database.get());
            if (!pausedDatabases.remove(db)) {
                throw new PgmuxException(
                        SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE,
                        allPaused
                                ? "database %s is paused with all others: RESUME without a name resumes it"
                                : "database %s is not paused",
                        db);
            }
        }
        for (Pool pool : poolsOf(database)) {
            if (pool.isPaused() && !isPaused(pool.key().database())) {
                pool.resume(loop);
            }
        }
    }

    /** RECONNECT [db]: every server is replaced when it is next released (idle ones now). */
    public void reconnect(Optional<String> database, EventLoop loop) {
        database.ifPresent(this::known);
        poolsOf(database).forEach(pool -> pool.reconnect(loop));
    }

    /**
     * KILL db: pauses the database without waiting (its clients are closed by the caller, so their servers close as
     * they are released) until RESUME; new clients of it wait meanwhile.
     */
    public synchronized void kill(String database, EventLoop loop) {
        String db = known(database);
        pausedDatabases.add(db);
        for (Pool pool : poolsOf(Optional.of(db))) {
            if (!pool.isPaused()) {
                pool.pause(loop);
            }
        }
    }

    /** Whether PAUSE holds {@code database} (on its own or with all others). */
    public boolean isPaused(String database) {
        return allPaused || pausedDatabases.contains(database);
    }

    /** The name of a configured database or one with a pool; else "no such database". */
    private String known(String database) {
        if (config.databases().containsKey(database)
                || pools.keySet().stream().anyMatch(k -> k.database().equals(database))) {
            return database;
        }
        throw new PgmuxException(SqlState.INVALID_CATALOG_NAME, "no such database: %s", database);
    }

    private List<Pool> poolsOf(Optional<String> database) {
        return pools.values().stream()
                .filter(p -> database.isEmpty() || p.key().database().equals(database.get()))
                .toList();
    }

    private ServerConnector.Target target(PgmuxConfig config, PoolKey key, String serverUser, DatabaseConfig db) {
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

    /** Forgets what logins of {@code user} taught pgmux, once auth.query no longer finds a secret for it. */
    public void forgetQueriedLogin(String user) {
        queriedSecrets.remove(user);
    }

    /** The users auth.query found that have logged in since pgmux started, and still finds (SHOW USERS). */
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
        for (Pool pool : retired) {
            if (pool.clientCount() == 0) {
                retired.remove(pool);
                log.info("pool {} closed: its database was removed and its last client left", pool.key());
                pool.close(loop);
            } else {
                pool.reap(loop);
            }
        }
    }

    public void closeAll(EventLoop loop) {
        pools.values().forEach(pool -> pool.close(loop));
        retired.forEach(pool -> pool.close(loop));
    }
}
