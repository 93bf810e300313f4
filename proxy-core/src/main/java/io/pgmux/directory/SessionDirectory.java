package io.pgmux.directory;

import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * The live client and server connections of one pgmux, for {@code SHOW CLIENTS} and {@code SHOW SERVERS}. A
 * connection keeps no snapshot of itself: listing asks each event loop once for the snapshots of its own
 * connections, so the hot path pays nothing for monitoring and an idle client holds no copy of itself. Safe from any
 * thread; never blocks.
 */
public final class SessionDirectory {
    /** A connection that can describe itself on its own event loop. */
    public interface Listed<T> {
        /** Orders the listing: the oldest connection first. */
        long id();

        /** The loop {@link #snapshot()} runs on. */
        EventLoop eventLoop();

        /** This connection as of now; null when it is gone. Called on {@link #eventLoop()}. */
        T snapshot();
    }

    private final Set<Listed<ClientSnapshot>> clients = ConcurrentHashMap.newKeySet();
    private final Set<Listed<ServerSnapshot>> servers = ConcurrentHashMap.newKeySet();

    public void addClient(Listed<ClientSnapshot> client) {
        clients.add(client);
    }

    public void removeClient(Listed<ClientSnapshot> client) {
        clients.remove(client);
    }

    public void addServer(Listed<ServerSnapshot> server) {
        servers.add(server);
    }

    public void removeServer(Listed<ServerSnapshot> server) {
        servers.remove(server);
    }

    /** The clients' snapshots, oldest client first. */
    public CompletableFuture<List<ClientSnapshot>> clients() {
        return snapshots(clients);
    }

    /** The servers' snapshots, oldest connection first. */
    public CompletableFuture<List<ServerSnapshot>> servers() {
        return snapshots(servers);
    }

    /** One task per event loop builds the snapshots of that loop's connections; the answer keeps the id order. */
    private static <T> CompletableFuture<List<T>> snapshots(Set<Listed<T>> entries) {
        List<Listed<T>> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Listed::id));
        Map<EventLoop, List<Integer>> byLoop = new IdentityHashMap<>();
        for (int i = 0; i < sorted.size(); i++) {
            byLoop.computeIfAbsent(sorted.get(i).eventLoop(), loop -> new ArrayList<>())
                    .add(i);
        }
        Object[] slots = new Object[sorted.size()];
        List<CompletableFuture<Void>> parts = new ArrayList<>(byLoop.size());
        byLoop.forEach((loop, indexes) -> {
            CompletableFuture<Void> part = new CompletableFuture<>();
            parts.add(part);
            try {
                loop.execute(() -> {
                    try {
                        for (int i : indexes) {
                            slots[i] = sorted.get(i).snapshot();
                        }
                        part.complete(null);
                    } catch (RuntimeException e) {
                        part.completeExceptionally(e);
                    }
                });
            } catch (RejectedExecutionException shuttingDown) {
                part.complete(null); // the loop is gone, and its connections with it
            }
        });
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<T> out = new ArrayList<>(slots.length);
            for (Object slot : slots) {
                if (slot != null) {
                    @SuppressWarnings("unchecked")
                    T snapshot = (T) slot;
                    out.add(snapshot);
                }
            }
            return out;
        });
    }
}
