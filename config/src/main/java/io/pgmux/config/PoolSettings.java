package io.pgmux.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The settings of a pool ({@code pgmux.pool}, with a database's {@code pool} overrides and then a user's on top of
 * it). A zero duration disables that timeout; an empty reset or check query disables it.
 */
public record PoolSettings(
        PoolMode mode,
        int size,
        int minSize,
        int reserveSize,
        Duration reserveTimeout,
        int maxClientConnections,
        int maxDbConnections,
        int maxUserConnections,
        int maxPreparedStatements,
        Duration serverIdleTimeout,
        Duration serverLifetime,
        Duration serverConnectTimeout,
        Duration serverLoginRetry,
        String serverResetQuery,
        String serverCheckQuery,
        Duration serverCheckDelay,
        Duration queryWaitTimeout,
        Duration clientIdleTimeout,
        Duration clientLoginTimeout,
        Duration idleTransactionTimeout,
        Duration queryTimeout) {
    public PoolSettings {
        Problems p = new Problems();
        p.notNull("pool.mode", mode);
        p.atLeast("pool.size", size, 1);
        if (minSize > size && size >= 1) {
            p.check(false, "pool.min-size", "must not exceed pool.size (" + size + "), got " + minSize);
        } else {
            p.atLeast("pool.min-size", minSize, 0);
        }
        p.atLeast("pool.reserve-size", reserveSize, 0);
        p.notNegative("pool.reserve-timeout", reserveTimeout);
        p.atLeast("pool.max-client-connections", maxClientConnections, 1);
        p.atLeast("pool.max-db-connections", maxDbConnections, 0);
        p.atLeast("pool.max-user-connections", maxUserConnections, 0);
        p.atLeast("pool.max-prepared-statements", maxPreparedStatements, 0);
        p.notNegative("pool.server-idle-timeout", serverIdleTimeout);
        p.notNegative("pool.server-lifetime", serverLifetime);
        p.notNegative("pool.server-connect-timeout", serverConnectTimeout);
        p.notNegative("pool.server-login-retry", serverLoginRetry);
        p.notNull("pool.server-reset-query", serverResetQuery);
        p.notNull("pool.server-check-query", serverCheckQuery);
        p.notNegative("pool.server-check-delay", serverCheckDelay);
        p.notNegative("pool.query-wait-timeout", queryWaitTimeout);
        p.notNegative("pool.client-idle-timeout", clientIdleTimeout);
        p.notNegative("pool.client-login-timeout", clientLoginTimeout);
        p.notNegative("pool.idle-transaction-timeout", idleTransactionTimeout);
        p.notNegative("pool.query-timeout", queryTimeout);
        p.throwIfAny();
    }

    /**
     * Keys of {@code pgmux.pool} that apply to pgmux as a whole: they are checked before a client's database and user
     * are known, so a database's or a user's {@code pool} block may not set them.
     */
    static final List<String> GLOBAL_ONLY = List.of("max-client-connections", "client-login-timeout");

    /** Refuses the {@link #GLOBAL_ONLY} keys in a database's or user's {@code pool} overrides. */
    static void checkNoGlobalOnly(Config overrides, Problems p) {
        for (String key : GLOBAL_ONLY) {
            p.check(
                    !overrides.hasPath(key),
                    "pool." + key,
                    "applies to all clients of pgmux (it is checked before their database and user are known):"
                            + " set it in pgmux.pool, not here");
        }
    }

    /**
     * Refuses {@code max-user-connections} in a database's {@code pool} block: it limits the servers of one server user
     * over all databases, so one database cannot set it for the others (as in PgBouncer, it is a user's setting).
     */
    static void checkDatabaseLevel(Config overrides, Problems p) {
        p.check(
                !overrides.hasPath("max-user-connections"),
                "pool.max-user-connections",
                "limits a server user over all databases: set it in pgmux.pool or auth.users.<user>.pool, not here");
    }

    /**
     * Refuses {@code max-db-connections} in a user's {@code pool} block: it limits the servers of one database over all
     * its users, so one user cannot set it for the others (as in PgBouncer, it is a database's setting).
     */
    static void checkUserLevel(Config overrides, Problems p) {
        p.check(
                !overrides.hasPath("max-db-connections"),
                "pool.max-db-connections",
                "limits a database over all its users: set it in pgmux.pool or databases.<db>.pool, not here");
    }

    /** Binds a {@code pool} block (for a database: its overrides already layered over {@code pgmux.pool}). */
    public static PoolSettings from(Config c) {
        return new PoolSettings(
                PoolMode.parse(c.getString("mode")),
                c.getInt("size"),
                c.getInt("min-size"),
                c.getInt("reserve-size"),
                c.getDuration("reserve-timeout"),
                c.getInt("max-client-connections"),
                c.getInt("max-db-connections"),
                c.getInt("max-user-connections"),
                c.getInt("max-prepared-statements"),
                c.getDuration("server-idle-timeout"),
                c.getDuration("server-lifetime"),
                c.getDuration("server-connect-timeout"),
                c.getDuration("server-login-retry"),
                c.getString("server-reset-query"),
                c.getString("server-check-query"),
                c.getDuration("server-check-delay"),
                c.getDuration("query-wait-timeout"),
                c.getDuration("client-idle-timeout"),
                c.getDuration("client-login-timeout"),
                c.getDuration("idle-transaction-timeout"),
                c.getDuration("query-timeout"));
    }

    /** These settings as a {@code pool} block that {@link #from} reads back to an equal record. */
    Config toConfig() {
        Map<String, Object> values = new LinkedHashMap<>();
        for (RecordComponent component : PoolSettings.class.getRecordComponents()) {
            Object value;
            try {
                value = component.getAccessor().invoke(this);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read " + component, e);
            }
            if (value instanceof Duration d) {
                value = Hocon.duration(d);
            } else if (value instanceof Enum<?> e) {
                value = Hocon.name(e);
            }
            values.put(Hocon.kebab(component.getName()), value);
        }
        return ConfigValueFactory.fromMap(values, "pool settings").toConfig();
    }
}
