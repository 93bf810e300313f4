package io.pgmux.config;

import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Walks the merged {@code pgmux} block against reference.conf and finds unknown keys and values of the wrong kind, each
 * with the origin of the value. It does what {@code Config.checkValid} does and more: checkValid accepts a string
 * wherever a number or duration is expected (conversion is left to the getters), and knows nothing of enum values or of
 * the entries under {@code databases} and {@code auth.users}.
 */
final class SettingsCheck {
    /** The keys of a {@code databases} entry besides {@code pool}, with the kinds of their values. */
    static final Map<String, Kind> DATABASE_KEYS = databaseKeys();

    /** Settings whose strings must name an enum constant, by their path in reference.conf. */
    private static final Map<String, Function<String, Enum<?>>> CHOICES = Map.of(
            "pool.mode", PoolMode::parse,
            "auth.type", AuthType::parse,
            "tls.client.mode", TlsMode::parse,
            "tls.server.mode", TlsMode::parse);

    private final ConfigObject reference;
    private final List<Finding> findings = new ArrayList<>();

    /** A problem with one key; {@code badValue} when the value cannot be bound (an unknown key can be left alone). */
    record Finding(List<String> path, ConfigOrigin origin, String text, boolean badValue) {
        String key() {
            return String.join(".", path);
        }
    }

    private SettingsCheck(ConfigObject reference) {
        this.reference = reference;
    }

    /** Every finding for {@code pgmux}, the merged block, in key order. */
    static List<Finding> check(ConfigObject reference, ConfigObject pgmux) {
        SettingsCheck check = new SettingsCheck(reference);
        check.walk(List.of(), "", reference, pgmux);
        return check.findings;
    }

    private void walk(List<String> path, String referencePath, ConfigObject ref, ConfigObject actual) {
        for (String key : new TreeSet<>(actual.keySet())) {
            List<String> p = append(path, key);
            String rp = referencePath.isEmpty() ? key : referencePath + "." + key;
            ConfigValue value = actual.get(key);
            if (rp.equals("databases")) {
                entries(p, value, this::database);
            } else if (rp.equals("auth.users")) {
                entries(p, value, this::user);
            } else if (ref.containsKey(key)) {
                value(p, rp, ref.get(key), value);
            } else {
                unknown(p, value);
            }
        }
    }

    private void value(List<String> path, String referencePath, ConfigValue ref, ConfigValue value) {
        Kind kind = Kind.of(ref);
        if (!kind.accepts(value)) {
            bad(path, value, "must be " + kind.description() + ", got " + render(value));
        } else if (value instanceof ConfigObject object) {
            walk(path, referencePath, (ConfigObject) ref, object);
        } else if (CHOICES.containsKey(referencePath)) {
            try {
                CHOICES.get(referencePath).apply(value.unwrapped().toString());
            } catch (IllegalArgumentException e) {
                bad(path, value, e.getMessage());
            }
        }
    }

    /** {@code databases} and {@code auth.users}: an object of named entries, each an object. */
    private void entries(List<String> path, ConfigValue value, BiConsumer<List<String>, ConfigObject> entry) {
        if (!(value instanceof ConfigObject entries)) {
            bad(path, value, "must be an object of named entries, got " + render(value));
            return;
        }
        for (String name : new TreeSet<>(entries.keySet())) {
            ConfigValue e = entries.get(name);
            if (e instanceof ConfigObject object) {
                entry.accept(append(path, name), object);
            } else {
                bad(append(path, name), e, "must be an object { … }, got " + render(e));
            }
        }
    }

    private void database(List<String> path, ConfigObject entry) {
        if (!entry.containsKey("host")) {
            bad(append(path, "host"), entry, "must be set: every database entry names its server");
        }
        for (String key : new TreeSet<>(entry.keySet())) {
            ConfigValue value = entry.get(key);
            if (key.equals("pool")) {
                value(append(path, key), "pool", reference.get("pool"), value);
            } else if (DATABASE_KEYS.containsKey(key)) {
                leaf(append(path, key), DATABASE_KEYS.get(key), value);
            } else {
                unknown(append(path, key), value);
            }
        }
    }

    private void user(List<String> path, ConfigObject entry) {
        if (!entry.containsKey("password")) {
            bad(append(path, "password"), entry, "must be set");
        }
        for (String key : new TreeSet<>(entry.keySet())) {
            if (key.equals("password")) {
                leaf(append(path, key), Kind.STRING, entry.get(key));
            } else if (key.equals("pool")) {
                value(append(path, key), "pool", reference.get("pool"), entry.get(key));
            } else {
                unknown(append(path, key), entry.get(key));
            }
        }
    }

    private void leaf(List<String> path, Kind kind, ConfigValue value) {
        if (!kind.accepts(value)) {
            bad(path, value, "must be " + kind.description() + ", got " + render(value));
        }
    }

    private void unknown(List<String> path, ConfigValue value) {
        findings.add(new Finding(path, value.origin(), String.join(".", path) + ": unknown setting", false));
    }

    private void bad(List<String> path, ConfigValue value, String message) {
        findings.add(new Finding(path, value.origin(), String.join(".", path) + " " + message, true));
    }

    private static String render(ConfigValue value) {
        return value.valueType() == ConfigValueType.NULL ? "null" : value.render(ConfigRenderOptions.concise());
    }

    private static List<String> append(List<String> path, String key) {
        List<String> longer = new ArrayList<>(path);
        longer.add(key);
        return List.copyOf(longer);
    }

    private static Map<String, Kind> databaseKeys() {
        Map<String, Kind> keys = new LinkedHashMap<>();
        keys.put("host", Kind.STRING);
        keys.put("port", Kind.WHOLE_NUMBER);
        keys.put("dbname", Kind.STRING);
        keys.put("user", Kind.STRING_OR_NULL);
        keys.put("password", Kind.STRING_OR_NULL);
        return keys;
    }
}
