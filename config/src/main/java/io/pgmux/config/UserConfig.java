package io.pgmux.config;

import com.typesafe.config.Config;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A user clients may log in as ({@code pgmux.auth.users.<name>}). The password is plain text, an MD5 hash
 * ({@code md5} + 32 hex digits) or a SCRAM-SHA-256 verifier, told apart as PostgreSQL does. {@code pool} holds the
 * pool settings the entry overrides for every pool of this user (see {@link PgmuxConfig#poolFor}).
 */
public record UserConfig(String name, String password, Optional<PoolOverrides> pool) {
    static final String SCRAM_PREFIX = "SCRAM-SHA-256$";
    private static final Pattern MD5 = Pattern.compile("md5[0-9a-f]{32}");
    private static final String BASE64 = "[A-Za-z0-9+/]+={0,2}";
    private static final Pattern SCRAM =
            Pattern.compile("SCRAM-SHA-256\\$[1-9][0-9]*:" + BASE64 + "\\$" + BASE64 + ":" + BASE64);

    public UserConfig {
        Problems p = new Problems();
        String key = "auth.users." + name + ".password";
        p.notBlank("auth.users", name);
        p.check(password != null && !password.isEmpty(), key, "must be set");
        p.notNull("auth.users." + name + ".pool", pool);
        // PostgreSQL would take a malformed verifier for a plain-text password; that is never what was meant.
        p.check(
                password == null
                        || !password.startsWith(SCRAM_PREFIX)
                        || SCRAM.matcher(password).matches(),
                key,
                "looks like a SCRAM-SHA-256 verifier but is not one: expected"
                        + " SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>");
        p.throwIfAny();
    }

    /** A user with no pool settings of its own. */
    public UserConfig(String name, String password) {
        this(name, password, Optional.empty());
    }

    /** How the password is stored, by PostgreSQL's rules ({@code get_password_type}). */
    public PasswordKind kind() {
        if (MD5.matcher(password).matches()) {
            return PasswordKind.MD5;
        }
        return SCRAM.matcher(password).matches() ? PasswordKind.SCRAM_SHA_256 : PasswordKind.PLAIN;
    }

    /** Never shows the password: records end up in logs. */
    @Override
    public String toString() {
        return "UserConfig[name=" + name + ", password=" + ConfigLoader.MASK + ", kind=" + kind() + ", pool=" + pool
                + "]";
    }

    /**
     * Binds one entry of {@code auth.users}; {@code poolDefaults} is the {@code pgmux.pool} block, over which the
     * entry's {@code pool} overrides are checked.
     */
    public static UserConfig from(String name, Config c, Config poolDefaults) {
        Problems p = new Problems();
        Optional<PoolOverrides> pool = p.collect(() -> pool(name, c, poolDefaults));
        String password = c.hasPath("password") ? c.getString("password") : null;
        UserConfig user = p.collect(() -> new UserConfig(name, password, pool == null ? Optional.empty() : pool));
        p.throwIfAny();
        return user;
    }

    private static Optional<PoolOverrides> pool(String name, Config c, Config poolDefaults) {
        if (!c.hasPath("pool")) {
            return Optional.empty();
        }
        try {
            Problems p = new Problems();
            PoolSettings.checkNoGlobalOnly(c.getConfig("pool"), p);
            PoolSettings.checkUserLevel(c.getConfig("pool"), p);
            Optional<PoolOverrides> overrides = p.collect(() -> PoolOverrides.from(c.getConfig("pool"), poolDefaults));
            p.throwIfAny();
            return overrides;
        } catch (InvalidSettingsException e) {
            throw e.under("auth.users." + name + ".");
        }
    }
}
