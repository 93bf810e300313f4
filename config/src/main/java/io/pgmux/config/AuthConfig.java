package io.pgmux.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** How clients authenticate to pgmux ({@code pgmux.auth}): the method, and where users and passwords come from. */
public record AuthConfig(
        AuthType type,
        Map<String, UserConfig> users,
        Optional<Path> file,
        Optional<String> query,
        Optional<String> queryUser) {
    public AuthConfig {
        Problems p = new Problems();
        p.notNull("auth.type", type);
        p.notNull("auth.users", users);
        users = users == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(users));
        users.forEach(
                (name, user) -> p.check(name.equals(user.name()), "auth.users." + name, "holds user " + user.name()));
        p.check(query.isEmpty() || !query.get().isBlank(), "auth.query", "must not be empty; null disables it");
        p.check(query.isEmpty() || queryUser.isPresent(), "auth.query-user", "must be set when auth.query is");
        p.check(
                query.isEmpty() || query.get().isBlank() || query.get().contains("$1"),
                "auth.query",
                "must take the user name as parameter $1, e.g. \"SELECT usename, passwd FROM pg_shadow WHERE usename ="
                        + " $1\"");
        p.check(queryUser.isEmpty() || !queryUser.get().isBlank(), "auth.query-user", "must not be empty");
        p.throwIfAny();
    }

    /**
     * Binds the {@code auth} block; {@code poolDefaults} is the {@code pgmux.pool} block, which the users' {@code pool}
     * overrides go over.
     */
    public static AuthConfig from(Config c, Config poolDefaults) {
        Problems p = new Problems();
        Map<String, UserConfig> users = new TreeMap<>();
        for (String name : c.getObject("users").keySet()) {
            UserConfig user = p.collect(
                    () -> UserConfig.from(name, c.getConfig(ConfigUtil.joinPath("users", name)), poolDefaults));
            if (user != null) {
                users.put(name, user);
            }
        }
        AuthType type = AuthType.parse(c.getString("type"));
        Optional<Path> file = Hocon.optional(c, "file").map(Path::of);
        Optional<String> query = Hocon.optional(c, "query");
        Optional<String> queryUser = Hocon.optional(c, "query-user");
        AuthConfig auth = p.collect(() -> new AuthConfig(type, users, file, query, queryUser));
        p.throwIfAny();
        return auth;
    }
}
