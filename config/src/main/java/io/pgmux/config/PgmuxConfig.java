package io.pgmux.config;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The whole configuration, the {@code pgmux} block bound to records; load it with {@link ConfigLoader}. */
public record PgmuxConfig(
        ListenConfig listen,
        AdminConfig admin,
        MetricsConfig metrics,
        Duration shutdownTimeout,
        long maxMessageSize,
        AuthConfig auth,
        PoolSettings pool,
        Map<String, DatabaseConfig> databases,
        TlsConfig tls) {
    public PgmuxConfig {
        Problems p = new Problems();
        checkScalars(p, shutdownTimeout, maxMessageSize);
        p.notNull("listen", listen);
        p.notNull("admin", admin);
        p.notNull("metrics", metrics);
        p.notNull("auth", auth);
        p.notNull("pool", pool);
        p.notNull("tls", tls);
        databases = Collections.unmodifiableMap(new TreeMap<>(databases));
        databases.forEach(
                (name, db) -> p.check(name.equals(db.name()), "databases." + name, "holds database " + db.name()));
        if (admin != null) {
            p.check(
                    !databases.containsKey(admin.database()),
                    "databases." + admin.database(),
                    "is also admin.database, which the admin console answers to; rename one of them");
            p.check(
                    !databases.containsKey(AdminConfig.PGBOUNCER_DATABASE),
                    "databases." + AdminConfig.PGBOUNCER_DATABASE,
                    "cannot be configured: the admin console answers to that name");
        }
        if (auth != null) {
            checkUserPools(p, auth, databases);
        }
        p.throwIfAny();
    }

    /**
     * A user's pool overrides are checked over {@code pgmux.pool} when bound; here they are checked over every
     * database's pool, where they may clash with what the database sets ({@code min-size} above the user's
     * {@code size}). So {@link #poolFor} never fails for a configured database, nor for one the {@code "*"} entry
     * stands in for.
     */
    private static void checkUserPools(Problems p, AuthConfig auth, Map<String, DatabaseConfig> databases) {
        auth.users().forEach((name, user) -> user.pool()
                .ifPresent(overrides -> databases.forEach((dbName, db) -> {
                    try {
                        overrides.over(db.pool());
                    } catch (InvalidSettingsException e) {
                        for (InvalidSettingsException.Problem problem : e.details()) {
                            p.check(
                                    false,
                                    "auth.users." + name + "." + problem.key(),
                                    problem.message() + " (over databases." + dbName + ".pool)");
                        }
                    }
                })));
    }

    private static void checkScalars(Problems p, Duration shutdownTimeout, long maxMessageSize) {
        p.notNegative("shutdown-timeout", shutdownTimeout);
        // The wire protocol's length field is a signed 32-bit integer.
        p.between("max-message-size", maxMessageSize, 1, Integer.MAX_VALUE);
    }

    /**
     * The database a client asking for {@code name} is routed to: its own entry, else the {@code "*"} entry aimed at
     * the same-named database, else empty (the client gets 3D000).
     */
    public Optional<DatabaseConfig> database(String name) {
        DatabaseConfig own = databases.get(name);
        if (own != null) {
            return Optional.of(own);
        }
        return Optional.ofNullable(databases.get(DatabaseConfig.FALLBACK)).map(fallback -> fallback.renamed(name));
    }

    /**
     * The settings of {@code user}'s pool on {@code db}. Lowest to highest: {@code pgmux.pool}, the database's
     * {@code databases.<db>.pool} (already in {@code db.pool()}), the user's {@code auth.users.<user>.pool}.
     * {@code user} is the name the client logged in as; a user without an entry, or without {@code pool} overrides
     * in it, gets {@code db.pool()}.
     */
    public PoolSettings poolFor(DatabaseConfig db, String user) {
        UserConfig entry = auth.users().get(user);
        return entry == null || entry.pool().isEmpty()
                ? db.pool()
                : entry.pool().get().over(db.pool());
    }

    /** Binds the {@code pgmux} block, reporting the problems of every section together. */
    public static PgmuxConfig from(Config c) {
        Problems p = new Problems();
        ListenConfig listen = p.collect(() -> ListenConfig.from(c.getConfig("listen")));
        AdminConfig admin = p.collect(() -> AdminConfig.from(c.getConfig("admin")));
        MetricsConfig metrics = p.collect(() -> MetricsConfig.from(c.getConfig("metrics")));
        Duration shutdownTimeout = c.getDuration("shutdown-timeout");
        long maxMessageSize = c.getBytes("max-message-size");
        AuthConfig auth = p.collect(() -> AuthConfig.from(c.getConfig("auth"), c.getConfig("pool")));
        PoolSettings pool = p.collect(() -> PoolSettings.from(c.getConfig("pool")));
        Map<String, DatabaseConfig> databases = new TreeMap<>();
        for (String name : c.getObject("databases").keySet()) {
            DatabaseConfig db = p.collect(() -> DatabaseConfig.from(name, c));
            if (db != null) {
                databases.put(name, db);
            }
        }
        TlsConfig tls = p.collect(() -> TlsConfig.from(c.getConfig("tls")));
        if (!p.isEmpty()) {
            // The constructor cannot run with a section missing; still report this level's own problems.
            checkScalars(p, shutdownTimeout, maxMessageSize);
            p.throwIfAny();
        }
        return new PgmuxConfig(listen, admin, metrics, shutdownTimeout, maxMessageSize, auth, pool, databases, tls);
    }
}
