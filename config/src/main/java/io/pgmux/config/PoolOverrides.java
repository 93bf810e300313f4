package io.pgmux.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import java.util.Collections;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The pool settings a user entry sets ({@code auth.users.<name>.pool}), for every pool of that user. They go on top of
 * the database's settings: lowest to highest, {@code pgmux.pool}, {@code databases.<db>.pool}, then these. Immutable;
 * the values are checked when the configuration is bound, and {@link PgmuxConfig} checks them over every database.
 */
public final class PoolOverrides {
    /** Only keys of {@code pgmux.pool}, each written as {@link PoolSettings#toConfig()} writes it. */
    private final ConfigObject values;

    private PoolOverrides(ConfigObject values) {
        this.values = values;
    }

    /**
     * Binds a user's {@code pool} block, checked over {@code defaults} (the {@code pgmux.pool} block, which supplies
     * what the user leaves out); problems name the keys {@code pool.size} and so on. Keys that are no pool settings
     * are left out: the settings check reports them. Empty when the block sets nothing.
     */
    static Optional<PoolOverrides> from(Config overrides, Config defaults) {
        PoolSettings checked = PoolSettings.from(overrides.withFallback(defaults));
        ConfigObject values = checked.toConfig().root();
        for (String key : Set.copyOf(values.keySet())) {
            if (!overrides.root().containsKey(key)) {
                values = values.withoutKey(key);
            }
        }
        return values.isEmpty() ? Optional.empty() : Optional.of(new PoolOverrides(values));
    }

    /** The keys set, as reference.conf names them ({@code size}, {@code min-size}, …), in order. */
    public Set<String> keys() {
        return Collections.unmodifiableSet(new TreeSet<>(values.keySet()));
    }

    /**
     * {@code base} with these keys replaced.
     *
     * @throws InvalidSettingsException when the result is inconsistent ({@code min-size} above {@code size}); never
     *     for the databases of the configuration these overrides were loaded with, which are checked at load time
     */
    public PoolSettings over(PoolSettings base) {
        return PoolSettings.from(values.toConfig().withFallback(base.toConfig()));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PoolOverrides other && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return keys().stream()
                .map(key -> key + "=" + values.get(key).unwrapped())
                .collect(Collectors.joining(", ", "PoolOverrides[", "]"));
    }
}
