package io.pgmux.config;

import com.typesafe.config.ConfigUtil;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Writes a {@link PgmuxConfig} with the key names of reference.conf, walking the records' components, so that a new
 * setting shows up without touching this class: as HOCON ({@link #render}, for {@code pgmux check}) or as flat
 * {@code section.key} → value pairs ({@link #settings}, for SHOW CONFIG), the values written the same way in both.
 * Passwords are masked; a database's pool shows only what it overrides, a user's pool the keys it sets.
 */
final class ConfigRenderer {
    private final StringBuilder out = new StringBuilder();
    private final PoolSettings globalPool;

    private ConfigRenderer(PoolSettings globalPool) {
        this.globalPool = globalPool;
    }

    static String render(PgmuxConfig config) {
        ConfigRenderer renderer = new ConfigRenderer(config.pool());
        renderer.record(0, "pgmux", config, null);
        return renderer.out.toString();
    }

    /**
     * The scalar settings as {@code section.key} → value, in reference.conf's order: each value as {@link #render}
     * writes it, except that a string is not quoted and an unset one is null. The {@code databases} and
     * {@code auth.users} maps are left out.
     */
    static Map<String, String> settings(PgmuxConfig config) {
        Map<String, String> out = new LinkedHashMap<>();
        flatten("", config, out);
        return out;
    }

    private static void flatten(String prefix, Record record, Map<String, String> out) {
        for (RecordComponent component : record.getClass().getRecordComponents()) {
            String name = component.getName();
            Object value = get(component, record);
            String key = prefix + Hocon.kebab(name);
            if (value instanceof Record child) {
                flatten(key + ".", child, out);
            } else if (!(value instanceof Map<?, ?>)) {
                out.put(key, plain(name, value));
            }
        }
    }

    /** A value as {@link #scalar} writes it, except a string, which is not quoted, and an unset value, null. */
    private static String plain(String name, Object value) {
        if (value instanceof Optional<?> optional) {
            return optional.map(v -> plain(name, v)).orElse(null);
        }
        if (value instanceof String || value instanceof Path) {
            return isSecret(name) ? ConfigLoader.MASK : value.toString();
        }
        return scalar(name, value);
    }

    /** {@code key { … }}, leaving out the components equal to those of {@code base} when there is one. */
    private void record(int depth, String key, Record record, Record base) {
        line(depth, key + " {");
        for (RecordComponent component : record.getClass().getRecordComponents()) {
            String name = component.getName();
            Object value = get(component, record);
            if (name.equals("name") || (base != null && value.equals(get(component, base)))) {
                continue; // a name is the entry's key already
            }
            String childKey = Hocon.kebab(name);
            if (value instanceof PoolSettings pool && record instanceof DatabaseConfig) {
                if (!pool.equals(globalPool)) {
                    record(depth + 1, childKey, pool, globalPool);
                }
            } else if (record instanceof UserConfig user && name.equals("pool")) {
                user.pool().ifPresent(overrides -> overrides(depth + 1, childKey, overrides));
            } else if (value instanceof Record child) {
                record(depth + 1, childKey, child, null);
            } else if (value instanceof Map<?, ?> entries) {
                map(depth + 1, childKey, entries);
            } else {
                line(depth + 1, childKey + " = " + scalar(name, value));
            }
        }
        line(depth, "}");
    }

    /** A user's {@code pool { … }}: exactly the keys it sets, also where they equal the defaults. */
    private void overrides(int depth, String key, PoolOverrides overrides) {
        PoolSettings pool = overrides.over(globalPool);
        line(depth, key + " {");
        for (RecordComponent component : PoolSettings.class.getRecordComponents()) {
            String name = component.getName();
            if (overrides.keys().contains(Hocon.kebab(name))) {
                line(depth + 1, Hocon.kebab(name) + " = " + scalar(name, get(component, pool)));
            }
        }
        line(depth, "}");
    }

    private void map(int depth, String key, Map<?, ?> entries) {
        if (entries.isEmpty()) {
            line(depth, key + " {}");
            return;
        }
        line(depth, key + " {");
        entries.forEach((name, entry) -> record(depth + 1, ConfigUtil.joinPath((String) name), (Record) entry, null));
        line(depth, "}");
    }

    private static String scalar(String name, Object value) {
        if (value instanceof Optional<?> optional) {
            return optional.map(v -> scalar(name, v)).orElse("null");
        }
        if (isSecret(name)) {
            return Hocon.quote(ConfigLoader.MASK);
        }
        if (name.equals("maxMessageSize")) {
            return Hocon.size((Long) value);
        }
        if (value instanceof Duration d) {
            return Hocon.duration(d);
        }
        if (value instanceof Enum<?> e) {
            return Hocon.name(e);
        }
        if (value instanceof String || value instanceof Path) {
            return Hocon.quote(value.toString());
        }
        if (value instanceof List<?> list) {
            return list.stream().map(v -> scalar(name, v)).collect(Collectors.joining(", ", "[", "]"));
        }
        return String.valueOf(value);
    }

    /** A component whose value is never shown: any named like a password. */
    private static boolean isSecret(String name) {
        return name.toLowerCase(Locale.ROOT).contains("password");
    }

    private void line(int depth, String text) {
        out.append("  ".repeat(depth)).append(text).append('\n');
    }

    private static Object get(RecordComponent component, Record record) {
        try {
            return component.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + component, e);
        }
    }
}
