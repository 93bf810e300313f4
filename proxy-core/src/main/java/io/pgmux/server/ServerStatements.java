package io.pgmux.server;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The statements pgmux prepared on one server connection under its own names ({@code pgmux_1},
 * …), shared by every client whose statement has the same {@link StatementKey}; least recently used
 * first. Read and changed only by the client holding the server.
 */
public final class ServerStatements {
    private final Map<StatementKey, String> names = new LinkedHashMap<>(16, 0.75f, true);
    private long nextId;

    /** The server-side name of a statement, marking it recently used; null when not prepared here. */
    public String lookup(StatementKey key) {
        return names.get(key);
    }

    /** Records a statement about to be prepared; returns the name to prepare it under. */
    public String add(StatementKey key) {
        String name = "pgmux_" + (++nextId);
        names.put(key, name);
        return name;
    }

    /** Forgets a statement whose Parse failed or was skipped. */
    public void remove(StatementKey key) {
        names.remove(key);
    }

    /** Removes and returns the least recently used statement's name when more than {@code max} are kept. */
    public String evictBeyond(int max) {
        if (names.size() <= max) {
            return null;
        }
        Iterator<Map.Entry<StatementKey, String>> eldest = names.entrySet().iterator();
        String name = eldest.next().getValue();
        eldest.remove();
        return name;
    }

    /** DISCARD ALL or DEALLOCATE ALL ran on the server. */
    public void clear() {
        names.clear();
    }

    public int size() {
        return names.size();
    }
}
