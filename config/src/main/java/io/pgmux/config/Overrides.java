package io.pgmux.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Turns {@code PGMUX_*} environment variables and {@code -Dpgmux.*} system properties into config layers, mapping
 * names to keys as the top of reference.conf documents. An underscore stands for "." or "-"; which one is settled by
 * matching against the keys of reference.conf and the database and user names of the config file.
 */
final class Overrides {
    private static final String PREFIX = "PGMUX_";
    /** Variables of the launcher and the tests, which share the prefix but are not settings. */
    private static final Set<String> NOT_SETTINGS = Set.of(
            "PGMUX_HOME",
            "PGMUX_OPTS",
            "PGMUX_JAVA_OPTS",
            "PGMUX_CONFIG",
            "PGMUX_JAR",
            "PGMUX_LOG_LEVEL",
            "PGMUX_LOG_FORMAT",
            "PGMUX_REBUILD");

    private static final String NOT_SETTINGS_PREFIX = "PGMUX_TEST_";

    /** Every key of reference.conf (dotted, under pgmux) with the kind of value it takes. */
    private final Map<String, Kind> kinds = new HashMap<>();
    /** Environment variable name to key path, for the keys of reference.conf. */
    private final Map<String, List<String>> variables = new HashMap<>();
    /** The rest of a {@code PGMUX_DATABASES_<NAME>_} variable to the key path within the entry. */
    private final Map<String, List<String>> databaseKeys = new LinkedHashMap<>();
    /** The rest of a {@code PGMUX_AUTH_USERS_<NAME>_} variable to the key path within the entry. */
    private final Map<String, List<String>> userKeys = new LinkedHashMap<>();

    Overrides(ConfigObject reference) {
        leaves(reference, List.of());
        SettingsCheck.DATABASE_KEYS.keySet().forEach(key -> databaseKeys.put(envName(key), List.of(key)));
        userKeys.put("PASSWORD", List.of("password"));
        for (String key : ((ConfigObject) reference.get("pool")).keySet()) {
            databaseKeys.put(envName("pool_" + key), List.of("pool", key));
            userKeys.put(envName("pool_" + key), List.of("pool", key));
        }
    }

    private void leaves(ConfigObject object, List<String> path) {
        object.forEach((key, value) -> {
            List<String> p = new ArrayList<>(path);
            p.add(key);
            if (value instanceof ConfigObject child) {
                leaves(child, p);
            } else {
                kinds.put(String.join(".", p), Kind.of(value));
                String variable = PREFIX + envName(String.join("_", p));
                if (variables.put(variable, List.copyOf(p)) != null) {
                    throw new IllegalStateException("reference.conf: two settings map to " + variable);
                }
            }
        });
    }

    /**
     * The {@code PGMUX_*} variables of {@code env} as a config layer; a variable that names no setting is added to
     * {@code problems}. {@code file} is the config file's layer, whose database and user names variables may match.
     */
    Config fromEnvironment(Map<String, String> env, Config file, List<String> problems) {
        Set<String> databases = names(file, "pgmux", "databases");
        Set<String> users = names(file, "pgmux", "auth", "users");
        Config layer = ConfigFactory.empty();
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (!name.startsWith(PREFIX) || NOT_SETTINGS.contains(name) || name.startsWith(NOT_SETTINGS_PREFIX)) {
                continue;
            }
            List<String> path = variables.get(name);
            if (path == null && name.startsWith(PREFIX + "DATABASES_")) {
                path = entryKey("databases", name.substring((PREFIX + "DATABASES_").length()), databases, databaseKeys);
            } else if (path == null && name.startsWith(PREFIX + "AUTH_USERS_")) {
                path = entryKey("auth.users", name.substring((PREFIX + "AUTH_USERS_").length()), users, userKeys);
            }
            if (path == null) {
                problems.add(name + ": no such setting");
            } else {
                layer = layer.withValue(fullPath(path), value(path, e.getValue(), "env " + name));
            }
        }
        return layer;
    }

    /** The {@code pgmux.*} system properties as a config layer; unknown keys are left for the check to report. */
    Config fromSystemProperties(Properties properties) {
        Config layer = ConfigFactory.empty();
        for (String name : new TreeSet<>(properties.stringPropertyNames())) {
            if (name.startsWith("pgmux.")) {
                List<String> path =
                        Arrays.asList(name.substring("pgmux.".length()).split("\\.", -1));
                layer = layer.withValue(fullPath(path), value(path, properties.getProperty(name), "-D" + name));
            }
        }
        return layer;
    }

    /**
     * Resolves {@code rest} (what follows {@code PGMUX_DATABASES_} or {@code PGMUX_AUTH_USERS_}) to a key path: an
     * existing entry whose name matches case-insensitively (the longest, if several do), else a new entry named by the
     * lower-cased rest before the key.
     */
    private static List<String> entryKey(
            String section, String rest, Set<String> names, Map<String, List<String>> keys) {
        String entry = names.stream()
                .filter(n -> rest.startsWith(envName(n) + "_")
                        && keys.containsKey(rest.substring(envName(n).length() + 1)))
                .max(Comparator.comparingInt(String::length))
                .orElse(null);
        List<String> key =
                entry == null ? null : keys.get(rest.substring(envName(entry).length() + 1));
        if (entry == null) {
            String suffix = keys.keySet().stream()
                    .filter(k -> rest.endsWith("_" + k) && rest.length() > k.length() + 1)
                    .max(Comparator.comparingInt(String::length))
                    .orElse(null);
            if (suffix == null) {
                return null;
            }
            entry = rest.substring(0, rest.length() - suffix.length() - 1).toLowerCase(Locale.ROOT);
            key = keys.get(suffix);
        }
        List<String> path = new ArrayList<>(Arrays.asList(section.split("\\.")));
        path.add(entry);
        path.addAll(key);
        return path;
    }

    /** A string, which the getters convert to the key's type; a list key takes comma-separated items. */
    private ConfigValue value(List<String> path, String raw, String origin) {
        if (kinds.get(String.join(".", path)) == Kind.STRING_LIST) {
            List<String> items = Arrays.stream(raw.split(","))
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .toList();
            return ConfigValueFactory.fromIterable(items, origin);
        }
        return ConfigValueFactory.fromAnyRef(raw, origin);
    }

    /** The entry names at {@code path} of the file layer, which is not resolved yet: so no {@code getValue}. */
    private static Set<String> names(Config file, String... path) {
        ConfigValue value = file.root();
        for (String key : path) {
            value = value instanceof ConfigObject o ? o.get(key) : null;
        }
        return value instanceof ConfigObject o ? o.keySet() : Set.of();
    }

    private static String fullPath(List<String> path) {
        List<String> full = new ArrayList<>();
        full.add("pgmux");
        full.addAll(path);
        return ConfigUtil.joinPath(full);
    }

    /** How a name is written in an environment variable: upper case, anything but letters and digits as "_". */
    static String envName(String name) {
        return name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }
}
