package io.pgmux.config;

import com.typesafe.config.Config;
import java.util.List;

/** The admin console ({@code pgmux.admin}): who may use it and the database name that reaches it. */
public record AdminConfig(List<String> users, String database) {
    /** PgBouncer's console name, accepted too so that existing scripts and exporters work. */
    public static final String PGBOUNCER_DATABASE = "pgbouncer";

    public AdminConfig {
        Problems p = new Problems();
        p.notNull("admin.users", users);
        if (users != null) {
            users.forEach(u -> p.notBlank("admin.users", u));
            users = List.copyOf(users);
        }
        p.notBlank("admin.database", database);
        p.throwIfAny();
    }

    /** True for {@link #database()} and for {@code pgbouncer}. */
    public boolean isAdminDatabase(String db) {
        return database.equals(db) || PGBOUNCER_DATABASE.equals(db);
    }

    /** Binds the {@code admin} block. */
    public static AdminConfig from(Config c) {
        return new AdminConfig(c.getStringList("users"), c.getString("database"));
    }
}
