package io.pgmux.pool;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Server connections that several pools share against one limit: all pools of a database ({@code max-db-connections})
 * or all pools of a server user ({@code max-user-connections}). The limit is the budget's own, the same for every pool
 * that draws on it, and a reload may change it. A pool takes a unit before it connects and gives it back when the
 * server is gone. A pool that found no room is remembered, and woken when another pool gives a unit back; to make room
 * at once, another member pool may close an idle server. Thread-safe: pools on many event loops share it; it never calls
 * a member while holding a lock of its own.
 */
public final class ConnectionBudget {
    /** A pool that draws on budgets. */
    interface Member {
        /** Closes one idle server to make room for another pool; false when it has none. */
        boolean closeIdleServer();

        /** Room may have come free: connect for waiting clients if the budgets allow. */
        void retryWaiters();

        /** Has clients waiting that no connect in flight will serve: it still wants room. */
        boolean wantsRoom();
    }

    private final String name;
    private final AtomicInteger open = new AtomicInteger();
    /** Most units taken at once; 0 = unlimited (only counted). */
    private volatile int limit;

    private final Set<Member> members = ConcurrentHashMap.newKeySet();
    private final Set<Member> starving = ConcurrentHashMap.newKeySet();

    /** A budget without a limit, which only counts. */
    public ConnectionBudget(String name) {
        this(name, 0);
    }

    /**
     * {@code name} says whose connections these are, for logs: {@code database appdb}, {@code user app}; {@code limit}
     * is the most units taken at once, 0 for no limit.
     */
    public ConnectionBudget(String name, int limit) {
        this.name = name;
        this.limit = checked(limit);
    }

    private static int checked(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("negative connection limit: " + limit);
        }
        return limit;
    }

    /** Takes a unit when fewer than the limit are taken; without a limit it takes one always (counting only). */
    public boolean tryTake() {
        while (true) {
            int current = open.get();
            int max = limit;
            if (max > 0 && current >= max) {
                return false;
            }
            if (open.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    /** Gives back a unit taken by {@link #tryTake}. */
    public void give() {
        open.decrementAndGet();
    }

    /** Units taken: server connections open or connecting. */
    public int open() {
        return open.get();
    }

    public int limit() {
        return limit;
    }

    /**
     * Takes a new limit (reload). Under a lower one no unit is taken until enough were given back, and servers above it
     * close as they are released. After a higher one, {@link #wake} lets the pools that found no room try again (once
     * every pool has its new settings, so that none connects with its old ones).
     */
    public void limit(int newLimit) {
        limit = checked(newLimit);
    }

    /** More units taken than the limit allows, after the limit was lowered. */
    public boolean isOverLimit() {
        int max = limit;
        return max > 0 && open.get() > max;
    }

    void join(Member member) {
        members.add(member);
    }

    void leave(Member member) {
        members.remove(member);
        starving.remove(member);
    }

    /**
     * {@code member} has clients waiting and found no room: it is woken when room comes free, and one other member
     * with an idle server closes it now to make that room (as PgBouncer does).
     */
    void noRoom(Member member) {
        starving.add(member);
        for (Member other : List.copyOf(members)) {
            if (other != member && other.closeIdleServer()) {
                return;
            }
        }
    }

    /**
     * {@code member} just parked a server idle: when another member is starving, that server is closed for it at once
     * rather than at the starving pool's next housekeeping tick.
     */
    void offerIdle(Member member) {
        if (starving.isEmpty()) {
            return;
        }
        for (Member other : List.copyOf(starving)) {
            if (other == member) {
                continue;
            }
            if (other.wantsRoom()) {
                member.closeIdleServer();
                return;
            }
            // Served meanwhile (by a server of its own coming back): not starving any more.
            starving.remove(other);
        }
    }

    /** Room came free: every member that found none tries again. */
    void wake() {
        if (starving.isEmpty()) {
            return;
        }
        for (Member member : List.copyOf(starving)) {
            if (starving.remove(member)) {
                member.retryWaiters();
            }
        }
    }

    @Override
    public String toString() {
        return "ConnectionBudget[" + name + ", open=" + open.get() + ", limit=" + limit + "]";
    }
}
