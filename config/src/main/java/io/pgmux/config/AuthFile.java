package io.pgmux.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code auth.file}: a HOCON file holding a {@code users { }} block like {@code auth.users}. Its entries are laid over
 * {@code auth.users} before binding, so they are checked like any other user (with the file's name and line in
 * problems). On a name in both, the file's entry wins as a whole: as in PgBouncer, the file is the list of users.
 */
final class AuthFile {
    private static final String FILE_PATH = "pgmux.auth.file";
    private static final String USERS = "users";

    private AuthFile() {}

    /** {@code merged} with the users of {@code auth.file} in {@code auth.users}; problems go to {@code problems}. */
    static Config mergeInto(Config merged, List<String> problems) {
        if (!merged.hasPath(FILE_PATH)) {
            return merged;
        }
        ConfigValue setting = merged.getValue(FILE_PATH);
        if (setting.valueType() != ConfigValueType.STRING) {
            // SettingsCheck reports the wrong kind of value.
            return merged;
        }
        Path file = Path.of((String) setting.unwrapped());
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            problems.add(ConfigLoader.where(setting.origin()) + "auth.file: cannot read " + file
                    + ": no such readable file");
            return merged;
        }
        Config users;
        try {
            users = ConfigFactory.parseFile(
                            file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false))
                    .resolve();
        } catch (com.typesafe.config.ConfigException e) {
            problems.add("auth.file: " + e.getMessage());
            return merged;
        }
        Config out = merged;
        for (String key : users.root().keySet()) {
            ConfigValue value = users.root().get(key);
            if (!key.equals(USERS)) {
                problems.add(ConfigLoader.where(value.origin()) + key
                        + ": unknown setting in auth.file (only users { } belongs" + " there)");
            } else if (!(value instanceof ConfigObject entries)) {
                problems.add(ConfigLoader.where(value.origin()) + "users: must be an object { name { password = … } }");
            } else {
                for (String name : entries.keySet()) {
                    out = out.withValue(ConfigUtil.joinPath("pgmux", "auth", USERS, name), entries.get(name));
                }
            }
        }
        return out;
    }
}
