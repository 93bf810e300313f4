package io.pgmux.session;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * A server connection's settings as pgmux knows them: what PostgreSQL reported with ParameterStatus and
 * what pgmux applied with {@code set_config}. Names are case-insensitive, as in PostgreSQL.
 *
 * <p>It also remembers which client settings it last matched ({@link SessionState#syncCommand}): a client
 * wanting the same settings again skips the comparison. Any change to a value forgets that match. Read and
 * changed only by whoever holds the server (its client, or the pool while idle); the hand-over orders access.
 */
public final class ServerSettings {
    private final Map<String, String> values = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    /** The wanted settings (an interned map of {@link SessionState}) these values match; null if unknown. */
    private Map<String, String> matched;

    public String get(String name) {
        return values.get(name);
    }

    public void put(String name, String value) {
        String old = values.put(name, value);
        if (!value.equals(old)) {
            matched = null;
        }
    }

    public void putAll(Map<String, String> settings) {
        settings.forEach(this::put);
    }

    public void remove(String name) {
        if (values.remove(name) != null) {
            matched = null;
        }
    }

    /** Forgets every setting not named in {@code keep} (a RESET ALL or DISCARD ALL removed them). */
    public void retainOnly(Set<String> keep) {
        if (values.keySet().retainAll(keep)) {
            matched = null;
        }
    }

    public Set<String> names() {
        return Set.copyOf(values.keySet());
    }

    public void forEach(BiConsumer<String, String> action) {
        values.forEach(action);
    }

    boolean matches(Map<String, String> wanted) {
        return matched == wanted;
    }

    void matched(Map<String, String> wanted) {
        matched = wanted;
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
