package io.pgmux.pool;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Server connections that several pools share against one limit: all pools of a database ({@code max-db-connections})
 * or all pools of a server user ({@code max-user-connections}). A pool takes a unit before it connects and gives it
 * back when the server is gone. A pool that found no room is remembered, and woken when another pool gives a unit
 * back; to make room at once, another member pool may close an idle server. Thread-safe: pools on many event loops
 * share it; it never calls a member while holding a lock of its own.
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
    private final Set<Member> members = ConcurrentHashMap.newKeySet();
    private final Set<Member> starving = ConcurrentHashMap.newKeySet();

    /** {@code name} says whose connections these are, for logs: {@code database appdb}, {@code user app}. */
    public ConnectionBudget(String name) {
        this.name = name;
    }

    /** Takes a unit when fewer than {@code limit} are taken; a limit of 0 takes one always (counting only). */
    public boolean tryTake(int limit) {
        while (true) {
            int current = open.get();
            if (limit > 0 && current >= limit) {
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
        return "ConnectionBudget[" + name + ", open=" + open.get() + "]";
    }
}
