package io.pgmux.pool;

import io.pgmux.protocol.SqlState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;

/**
 * The pure logic of one pool: idle servers (most recently used first), leased servers, connects
 * in flight and a FIFO of waiters. Every method takes {@code nowNanos} and returns the
 * {@link Decision}s to carry out; nothing here does I/O or reads a clock. Not thread-safe: the
 * owning {@link Pool} serialises calls.
 *
 * @param <S> the server handle
 * @param <W> the waiter handle
 */
public final class PoolState<S, W> {
    private record IdleServer<S>(S server, long idleSinceNanos) {}

    /** A client waiting for a server, and since when. */
    private record Waiting<W>(W waiter, long sinceNanos) {}

    /** An open server: when it connected, and the factor its server-lifetime is scaled by (the jitter). */
    private record Open(long bornNanos, double lifetimeFactor) {}

    /** How far a server's lifetime may stray from server-lifetime, either way: ±10 %. */
    public static final double LIFETIME_JITTER = 0.10;

    private final ArrayDeque<IdleServer<S>> idle = new ArrayDeque<>();
    private final Set<S> leased = new HashSet<>();
    private final Map<S, Open> bornNanos = new HashMap<>();
    /** Picks each new server's lifetime factor; see {@link #jitteredLifetimes}. */
    private final DoubleSupplier lifetimeFactor;

    private final ArrayDeque<Waiting<W>> waiters = new ArrayDeque<>();
    /** Servers of all pools of this database (max-db-connections), and of this server user (max-user-connections). */
    private final ConnectionBudget dbBudget;

    private final ConnectionBudget userBudget;
    private int connecting;
    private boolean closed;
    /** PAUSE: no server is handed out or opened, and servers close as they come back; waiters wait. */
    private boolean paused;
    /** RECONNECT: servers open at the time, each closed when it is next released. */
    private final Set<S> retiring = new HashSet<>();

    private PoolLimits limits;
    /** While connects keep failing: no new connect before retryAtNanos; clients meanwhile get the last error. */
    private long retryDelayNanos;

    private long retryAtNanos;
    private SqlState lastFailureState;
    private String lastFailureMessage;

    /** A pool whose servers all live exactly server-lifetime. */
    public PoolState(PoolLimits limits) {
        this(limits, () -> 1.0);
    }

    /** As the four-argument constructor, sharing no limit with other pools. */
    public PoolState(PoolLimits limits, DoubleSupplier lifetimeFactor) {
        this(limits, lifetimeFactor, new ConnectionBudget("database"), new ConnectionBudget("user"));
    }

    /**
     * A pool whose servers live server-lifetime times a factor {@code lifetimeFactor} picks for each when it connects,
     * so that servers opened together (at start, after an outage) do not all expire, and reconnect, together. Each
     * server takes a unit of {@code dbBudget} and {@code userBudget} (shared with the other pools of its database and
     * its server user) from when its connect is decided until it is forgotten.
     */
    public PoolState(
            PoolLimits limits, DoubleSupplier lifetimeFactor, ConnectionBudget dbBudget, ConnectionBudget userBudget) {
        this.limits = limits;
        this.lifetimeFactor = lifetimeFactor;
        this.dbBudget = dbBudget;
        this.userBudget = userBudget;
    }

    /** Factors spread evenly over 1 ± {@link #LIFETIME_JITTER}, drawn from {@code random}. */
    public static DoubleSupplier jitteredLifetimes(Random random) {
        return () -> 1.0 - LIFETIME_JITTER + 2 * LIFETIME_JITTER * random.nextDouble();
    }

    /** A waiter asks for a server; {@code preferred} picks among idle ones (e.g. same event loop). */
    public List<Decision<S, W>> acquire(W waiter, long nowNanos, Predicate<S> preferred) {
        List<Decision<S, W>> out = new ArrayList<>(1);
        if (closed) {
            out.add(new Decision.Reject<>(waiter, SqlState.ADMIN_SHUTDOWN, "pool is closed"));
            return out;
        }
        if (paused) {
            waiters.addLast(new Waiting<>(waiter, nowNanos));
            return out;
        }
        IdleServer<S> chosen = takeIdle(preferred);
        if (chosen != null) {
            leased.add(chosen.server());
            out.add(new Decision.Lease<>(chosen.server(), waiter));
            return out;
        }
        if (isBackingOff(nowNanos)) {
            if (bornNanos.isEmpty() && connecting == 0) {
                // Nothing could serve this client before the next attempt: tell it now why.
                out.add(new Decision.Reject<>(waiter, lastFailureState, lastFailureMessage));
            } else {
                waiters.addLast(new Waiting<>(waiter, nowNanos));
            }
            return out;
        }
        waiters.addLast(new Waiting<>(waiter, nowNanos));
        if (total() < limits.size() && takeRoom(out)) {
            connecting++;
            out.add(new Decision.Connect<>());
        }
        return out;
    }

    private boolean isBackingOff(long nowNanos) {
        return retryDelayNanos > 0 && nowNanos - retryAtNanos < 0;
    }

    private IdleServer<S> takeIdle(Predicate<S> preferred) {
        for (Iterator<IdleServer<S>> it = idle.iterator(); it.hasNext(); ) {
            IdleServer<S> candidate = it.next();
            if (preferred.test(candidate.server())) {
                it.remove();
                return candidate;
            }
        }
        return idle.pollFirst();
    }

    /** A waiter gave up (timeout, disconnect); true when it was still waiting. */
    public boolean cancelWait(W waiter) {
        return waiters.removeIf(w -> w.waiter().equals(waiter));
    }

    /** A connect decided earlier succeeded. */
    public List<Decision<S, W>> connected(S server, long nowNanos) {
        connecting--;
        retryDelayNanos = 0;
        bornNanos.put(server, new Open(nowNanos, lifetimeFactor.getAsDouble()));
        List<Decision<S, W>> out = new ArrayList<>(1);
        if (closed) {
            forget(server);
            out.add(new Decision.Close<>(server, CloseReason.SHUTDOWN));
            return out;
        }
        if (paused) {
            forget(server);
            out.add(new Decision.Close<>(server, CloseReason.PAUSE));
            return out;
        }
        if (waiters.isEmpty() && bornNanos.size() > limits.size()) {
            // The pool shrank while this connect was in flight.
            forget(server);
            out.add(new Decision.Close<>(server, CloseReason.POOL_SHRUNK));
            return out;
        }
        handOverOrPark(server, nowNanos, out);
        return out;
    }

    /**
     * A connect decided earlier failed. Waiters fail at once when nothing else could serve them
     * (no server open and no other connect in flight); otherwise they keep waiting.
     */
    public List<Decision<S, W>> connectFailed(SqlState sqlState, String message) {
        return connectFailed(sqlState, message, Long.MIN_VALUE);
    }

    /**
     * As {@link #connectFailed(SqlState, String)}, and no new connect is tried before
     * server-login-retry has passed (doubling while failures go on).
     */
    public List<Decision<S, W>> connectFailed(SqlState sqlState, String message, long nowNanos) {
        long retry = limits.serverLoginRetry().toNanos();
        if (retry > 0 && nowNanos != Long.MIN_VALUE) {
            retryDelayNanos = retryDelayNanos == 0
                    ? retry
                    : Math.min(2 * retryDelayNanos, Math.max(retry, PoolLimits.MAX_LOGIN_RETRY.toNanos()));
            retryAtNanos = nowNanos + retryDelayNanos;
            lastFailureState = sqlState;
            lastFailureMessage = message;
        }
        connecting--;
        giveRoom();
        List<Decision<S, W>> out = new ArrayList<>();
        if (bornNanos.isEmpty() && connecting == 0) {
            while (!waiters.isEmpty()) {
                out.add(new Decision.Reject<>(waiters.pollFirst().waiter(), sqlState, message));
            }
        }
        return out;
    }

    /**
     * A leased server comes back. With a {@code closeReason} it is closed; otherwise it is reused
     * unless it outlived server-lifetime.
     */
    public List<Decision<S, W>> release(S server, CloseReason closeReason, long nowNanos) {
        if (!leased.remove(server)) {
            throw new IllegalStateException("server not leased: " + server);
        }
        List<Decision<S, W>> out = new ArrayList<>(2);
        CloseReason reason = closeReason;
        if (reason == null && closed) {
            reason = CloseReason.SHUTDOWN;
        }
        if (reason == null && paused) {
            reason = CloseReason.PAUSE;
        }
        if (retiring.remove(server) && reason == null) {
            reason = CloseReason.RECONNECT;
        }
        if (reason == null && isExpired(server, nowNanos)) {
            reason = CloseReason.LIFETIME;
        }
        if (reason == null && total() > limits.size() + limits.reserveSize()) {
            reason = CloseReason.POOL_SHRUNK;
        }
        if (reason == null && total() > limits.size() && waiters.isEmpty()) {
            // A reserve server goes as soon as no client waits for it.
            reason = CloseReason.RESERVE;
        }
        if (reason != null) {
            forget(server);
            out.add(new Decision.Close<>(server, reason));
            connectForWaiters(out, nowNanos);
            return out;
        }
        handOverOrPark(server, nowNanos, out);
        return out;
    }

    /** A server closed by itself (or failed); it is forgotten wherever it was. */
    public List<Decision<S, W>> lost(S server) {
        List<Decision<S, W>> out = new ArrayList<>(1);
        if (!forget(server)) {
            return out;
        }
        leased.remove(server);
        retiring.remove(server);
        idle.removeIf(i -> i.server().equals(server));
        connectForWaiters(out);
        return out;
    }

    /**
     * Housekeeping: close idle servers above min-size idle longer than server-idle-timeout, close
     * idle servers past server-lifetime, and open servers to keep min-size.
     */
    public List<Decision<S, W>> reap(long nowNanos) {
        List<Decision<S, W>> out = new ArrayList<>();
        if (closed) {
            return out;
        }
        // Expired servers go first, so that the idle-timeout pass below counts only servers that stay.
        for (Iterator<IdleServer<S>> it = idle.descendingIterator(); it.hasNext(); ) {
            IdleServer<S> candidate = it.next();
            if (isExpired(candidate.server(), nowNanos)) {
                it.remove();
                forget(candidate.server());
                out.add(new Decision.Close<>(candidate.server(), CloseReason.LIFETIME));
            }
        }
        long idleTimeout = limits.serverIdleTimeout().toNanos();
        // Oldest idle servers are at the tail.
        for (Iterator<IdleServer<S>> it = idle.descendingIterator(); it.hasNext(); ) {
            IdleServer<S> candidate = it.next();
            CloseReason reason = null;
            if (bornNanos.size() > limits.size() + limits.reserveSize()) {
                reason = CloseReason.POOL_SHRUNK;
            } else if (bornNanos.size() > limits.size()) {
                reason = CloseReason.RESERVE;
            } else if (idleTimeout > 0
                    && nowNanos - candidate.idleSinceNanos() >= idleTimeout
                    && bornNanos.size() > limits.minSize()) {
                reason = CloseReason.IDLE_TIMEOUT;
            }
            if (reason != null) {
                it.remove();
                forget(candidate.server());
                out.add(new Decision.Close<>(candidate.server(), reason));
            }
        }
        if (paused || isBackingOff(nowNanos)) {
            return out;
        }
        // Keeping min-size warm never asks another pool to close a server (that would go back and forth).
        while (total() < limits.minSize() && takeRoom(null)) {
            connecting++;
            out.add(new Decision.Connect<>());
        }
        // Clients that waited out a login retry, or reserve-timeout, get their connect now.
        connectForWaiters(out, nowNanos);
        return out;
    }

    /** Applies new limits (reload); surplus servers close as they become idle. */
    public List<Decision<S, W>> resize(PoolLimits newLimits, long nowNanos) {
        this.limits = newLimits;
        List<Decision<S, W>> out = reap(nowNanos);
        connectForWaiters(out);
        return out;
    }

    /**
     * PAUSE: closes idle servers now and every leased one when it comes back; no server is opened or handed out until
     * {@link #resume}, so waiters (new and old) wait. {@link #isDrained()} tells when the last server is gone.
     */
    public List<Decision<S, W>> pause() {
        paused = true;
        List<Decision<S, W>> out = new ArrayList<>();
        closeIdle(CloseReason.PAUSE, out);
        return out;
    }

    /** RESUME: servers are opened and handed out again, first to the clients that waited. */
    public List<Decision<S, W>> resume(long nowNanos) {
        paused = false;
        List<Decision<S, W>> out = reap(nowNanos);
        connectForWaiters(out, nowNanos);
        return out;
    }

    /** Room may have come free in a budget this pool shares: connect for waiting clients if it allows. */
    public List<Decision<S, W>> retryWaiters(long nowNanos) {
        List<Decision<S, W>> out = new ArrayList<>(1);
        connectForWaiters(out, nowNanos);
        return out;
    }

    /**
     * Another pool of the same database or user needs room: closes the idle server unused longest, if there is one
     * and no client of this pool waits (then there would be none idle).
     */
    public List<Decision<S, W>> closeIdleForRoom() {
        List<Decision<S, W>> out = new ArrayList<>(1);
        IdleServer<S> oldest = idle.pollLast();
        if (oldest != null) {
            forget(oldest.server());
            out.add(new Decision.Close<>(oldest.server(), CloseReason.MAKE_ROOM));
        }
        return out;
    }

    /**
     * RECONNECT: every server open now is replaced, the idle ones at once and the leased ones as they come back, so
     * that clients notice nothing.
     */
    public List<Decision<S, W>> reconnect(long nowNanos) {
        retiring.addAll(leased);
        List<Decision<S, W>> out = new ArrayList<>();
        closeIdle(CloseReason.RECONNECT, out);
        connectForWaiters(out, nowNanos);
        return out;
    }

    /** Paused and no server open or being opened: what PAUSE waits for. */
    public boolean isDrained() {
        return paused && bornNanos.isEmpty() && connecting == 0;
    }

    public boolean isPaused() {
        return paused;
    }

    /** How long the client first in line has waited at {@code nowNanos}; 0 when none waits. */
    public long longestWaitNanos(long nowNanos) {
        Waiting<W> oldest = waiters.peekFirst();
        return oldest == null ? 0 : Math.max(0, nowNanos - oldest.sinceNanos());
    }

    private void closeIdle(CloseReason reason, List<Decision<S, W>> out) {
        while (!idle.isEmpty()) {
            S server = idle.pollFirst().server();
            forget(server);
            out.add(new Decision.Close<>(server, reason));
        }
    }

    /** Closes idle servers at once and every other one when it comes back; waiters fail. */
    public List<Decision<S, W>> close(SqlState sqlState, String message) {
        closed = true;
        List<Decision<S, W>> out = new ArrayList<>();
        while (!waiters.isEmpty()) {
            out.add(new Decision.Reject<>(waiters.pollFirst().waiter(), sqlState, message));
        }
        closeIdle(CloseReason.SHUTDOWN, out);
        return out;
    }

    private void handOverOrPark(S server, long nowNanos, List<Decision<S, W>> out) {
        Waiting<W> waiting = waiters.pollFirst();
        if (waiting != null) {
            leased.add(server);
            out.add(new Decision.Lease<>(server, waiting.waiter()));
        } else {
            idle.addFirst(new IdleServer<>(server, nowNanos));
        }
    }

    private void connectForWaiters(List<Decision<S, W>> out) {
        connectForWaiters(out, Long.MIN_VALUE);
    }

    private void connectForWaiters(List<Decision<S, W>> out, long nowNanos) {
        if (nowNanos != Long.MIN_VALUE && isBackingOff(nowNanos)) {
            return;
        }
        while (!closed && !paused && waiters.size() > connecting && total() < allowedTotal(nowNanos) && takeRoom(out)) {
            connecting++;
            out.add(new Decision.Connect<>());
        }
    }

    /** size, and the reserve on top once the longest-waiting client has waited reserve-timeout. */
    private int allowedTotal(long nowNanos) {
        Waiting<W> oldest = waiters.peekFirst();
        boolean reserve = limits.reserveSize() > 0
                && oldest != null
                && nowNanos != Long.MIN_VALUE
                && nowNanos - oldest.sinceNanos() >= limits.reserveTimeout().toNanos();
        return reserve ? limits.size() + limits.reserveSize() : limits.size();
    }

    /**
     * Takes a unit of both shared budgets for a new server. When one is spent, {@code out} (unless null) gets a
     * {@link Decision.NoRoom} for it, so that the pool is woken when room comes free.
     */
    private boolean takeRoom(List<Decision<S, W>> out) {
        if (!dbBudget.tryTake(limits.maxDbConnections())) {
            if (out != null) {
                out.add(new Decision.NoRoom<>(dbBudget));
            }
            return false;
        }
        if (!userBudget.tryTake(limits.maxUserConnections())) {
            dbBudget.give();
            if (out != null) {
                out.add(new Decision.NoRoom<>(userBudget));
            }
            return false;
        }
        return true;
    }

    private void giveRoom() {
        dbBudget.give();
        userBudget.give();
    }

    /** Forgets an open server and gives its room back; false when it was not open. */
    private boolean forget(S server) {
        if (bornNanos.remove(server) == null) {
            return false;
        }
        giveRoom();
        return true;
    }

    private boolean isExpired(S server, long nowNanos) {
        long lifetime = limits.serverLifetime().toNanos();
        Open open = bornNanos.get(server);
        return lifetime > 0 && open != null && nowNanos - open.bornNanos() >= (long) (lifetime * open.lifetimeFactor());
    }

    private int total() {
        return bornNanos.size() + connecting;
    }

    public int idleCount() {
        return idle.size();
    }

    public int leasedCount() {
        return leased.size();
    }

    public int connectingCount() {
        return connecting;
    }

    public int waitingCount() {
        return waiters.size();
    }

    public int openCount() {
        return bornNanos.size();
    }

    public boolean isClosed() {
        return closed;
    }

    public PoolLimits limits() {
        return limits;
    }
}
