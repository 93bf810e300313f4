package io.pgmux.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import java.util.Optional;

/**
 * A database clients may ask for ({@code pgmux.databases.<name>}): the PostgreSQL server and database it routes to,
 * an optional forced server login, and its pool settings (the entry's {@code pool} overrides over {@code pgmux.pool}).
 */
public record DatabaseConfig(
        String name,
        String host,
        int port,
        String dbname,
        Optional<String> user,
        Optional<String> password,
        PoolSettings pool) {
    /** The name of the fallback entry, which routes any other name to the same-named database on its server. */
    public static final String FALLBACK = "*";

    public DatabaseConfig {
        Problems p = new Problems();
        String key = "databases." + name + ".";
        p.notBlank("databases", name);
        p.check(host != null && !host.isBlank(), key + "host", "must be set: every database entry names its server");
        p.between(key + "port", port, 1, 65535);
        p.notBlank(key + "dbname", dbname);
        p.check(user.isEmpty() || !user.get().isBlank(), key + "user", "must not be empty; leave it out instead");
        p.notNull(key + "pool", pool);
        p.throwIfAny();
    }

    /** This entry for another database name: what the {@code "*"} entry becomes for a name it stands in for. */
    public DatabaseConfig renamed(String newName) {
        return new DatabaseConfig(newName, host, port, newName, user, password, pool);
    }

    /** This entry with other pool settings: what the pools of a user with its own {@code pool} overrides run with. */
    public DatabaseConfig withPool(PoolSettings newPool) {
        return new DatabaseConfig(name, host, port, dbname, user, password, newPool);
    }

    /** Never shows the password: records end up in logs. */
    @Override
    public String toString() {
        return "DatabaseConfig[name=" + name + ", host=" + host + ", port=" + port + ", dbname=" + dbname + ", user="
                + user + ", password=" + password.map(x -> ConfigLoader.MASK) + ", pool=" + pool + "]";
    }

    /**
     * Binds {@code databases.<name>} of the {@code pgmux} block {@code pgmux}: the entry over
     * {@code database-defaults}, and its {@code pool} over {@code pool}.
     */
    public static DatabaseConfig from(String name, Config pgmux) {
        Config entry = pgmux.getConfig(ConfigUtil.joinPath("databases", name))
                .withFallback(pgmux.getConfig("database-defaults"));
        Config pool = entry.hasPath("pool")
                ? entry.getConfig("pool").withFallback(pgmux.getConfig("pool"))
                : pgmux.getConfig("pool");
        PoolSettings settings;
        try {
            Problems p = new Problems();
            if (entry.hasPath("pool")) {
                PoolSettings.checkNoGlobalOnly(entry.getConfig("pool"), p);
                PoolSettings.checkDatabaseLevel(entry.getConfig("pool"), p);
            }
            settings = p.collect(() -> PoolSettings.from(pool));
            p.throwIfAny();
        } catch (InvalidSettingsException e) {
            throw e.under("databases." + name + ".");
        }
        return new DatabaseConfig(
                name,
                entry.hasPath("host") ? entry.getString("host") : null,
                entry.getInt("port"),
                entry.hasPath("dbname") ? entry.getString("dbname") : name,
                Hocon.optional(entry, "user"),
                Hocon.optional(entry, "password"),
                settings);
    }
}
