package io.pgmux.directory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The live client and server connections of one pgmux, for {@code SHOW CLIENTS} and {@code SHOW SERVERS}. Each
 * entry reads the connection's latest published snapshot (a volatile field), so listing never touches a connection's
 * own state or blocks its event loop. Safe from any thread.
 */
public final class SessionDirectory {
    private final Map<Long, Supplier<ClientSnapshot>> clients = new ConcurrentHashMap<>();
    private final Map<Long, Supplier<ServerSnapshot>> servers = new ConcurrentHashMap<>();

    public void addClient(long id, Supplier<ClientSnapshot> snapshot) {
        clients.put(id, snapshot);
    }

    public void removeClient(long id) {
        clients.remove(id);
    }

    public void addServer(long id, Supplier<ServerSnapshot> snapshot) {
        servers.put(id, snapshot);
    }

    public void removeServer(long id) {
        servers.remove(id);
    }

    /** The clients' snapshots, oldest client first. */
    public List<ClientSnapshot> clients() {
        return snapshots(clients);
    }

    /** The servers' snapshots, oldest connection first. */
    public List<ServerSnapshot> servers() {
        return snapshots(servers);
    }

    private static <T> List<T> snapshots(Map<Long, Supplier<T>> entries) {
        List<Map.Entry<Long, Supplier<T>>> sorted = new ArrayList<>(entries.entrySet());
        sorted.sort(Map.Entry.comparingByKey(Comparator.naturalOrder()));
        List<T> out = new ArrayList<>(sorted.size());
        for (Map.Entry<Long, Supplier<T>> e : sorted) {
            T snapshot = e.getValue().get();
            if (snapshot != null) {
                out.add(snapshot);
            }
        }
        return out;
    }
}
