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
import java.util.function.BiPredicate;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;

/**
 * The pure logic of one pool: idle servers (most recently used first), leased servers, connects
 * in flight and a FIFO of waiters. Every method takes {@code nowNanos} and returns the
 * {@link Decision}s to carry out; nothing here does I/O or reads a clock. Not thread-safe: the
 * owning {@link Pool} serialises calls.
 *
 * <p>Servers belong to a {@link Generation}: RECONNECT (and a reload that moves the pool to another server) starts a
 * new one, and a server of an older generation is closed when its connect completes or when it comes back, so that
 * no connect already in flight at the RECONNECT joins the pool.
 *
 * @param <S> the server handle
 * @param <W> the waiter handle
 */
public final class PoolState<S, W> {
    private record IdleServer<S>(S server, long idleSinceNanos) {}

    /** How far behind the longest-waiting client a better-suited one is looked for. */
    private static final int LOOKAHEAD = 32;

    /**
     * How often the longest-waiting client may be passed over before it gets the next server regardless. With 4 (and a
     * look-ahead of 8), pgbench -S with 64 clients on 20 servers still handed 22 % of servers to a client on the other
     * event loop; with 16 (and 32), under 1 %. Passing over costs the longest-waiting client at most 16 transactions'
     * worth of waiting.
     */
    private static final int MAX_PASS_OVERS = 16;

    /** A client waiting for a server, and since when. */
    private record Waiting<W>(W waiter, long sinceNanos) {}

    /**
     * An open server: when it connected, the factor its server-lifetime is scaled by (the jitter), and the generation
     * whose budgets it took its room from.
     */
    private record Open(long bornNanos, double lifetimeFactor, Generation generation) {}

    /**
     * The servers opened between two RECONNECTs, and the budgets they draw on: those of the pool's database and of its
     * server user (max-db-connections, max-user-connections), shared with other pools. A {@link Decision.Connect}
     * carries the generation it was decided in, to be handed back to {@link #connected} or {@link #connectFailed}.
     *
     * @param number counts RECONNECTs of this pool
     */
    public record Generation(int number, ConnectionBudget dbBudget, ConnectionBudget userBudget) {
        /** Takes a unit of both budgets; returns null when it did, else the budget that had no room. */
        private ConnectionBudget tryTake() {
            if (!dbBudget.tryTake()) {
                return dbBudget;
            }
            if (!userBudget.tryTake()) {
                dbBudget.give();
                return userBudget;
            }
            return null;
        }

        private void give() {
            dbBudget.give();
            userBudget.give();
        }

        private boolean isOverLimit() {
            return dbBudget.isOverLimit() || userBudget.isOverLimit();
        }
    }

    /** How far a server's lifetime may stray from server-lifetime, either way: ±10 %. */
    public static final double LIFETIME_JITTER = 0.10;

    private final ArrayDeque<IdleServer<S>> idle = new ArrayDeque<>();
    private final Set<S> leased = new HashSet<>();
    private final Map<S, Open> bornNanos = new HashMap<>();
    /** Picks each new server's lifetime factor; see {@link #jitteredLifetimes}. */
    private final DoubleSupplier lifetimeFactor;

    private final ArrayDeque<Waiting<W>> waiters = new ArrayDeque<>();
    /** Which waiting client a server coming free suits best (see the five-argument constructor). */
    private final BiPredicate<S, W> suits;
    /** The longest-waiting client when it was last passed over for a better-suited one, and how often it was. */
    private Waiting<W> passedOver;

    private int passOvers;
    /** Servers opened from now on belong to it; those of older ones close as they come back. */
    private Generation generation;
    /** Connects in flight, of every generation: each holds a unit of its generation's budgets. */
    private int connecting;

    private boolean closed;
    /** PAUSE: no server is handed out or opened, and servers close as they come back; waiters wait. */
    private boolean paused;

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
        this(limits, lifetimeFactor, dbBudget, userBudget, (server, waiter) -> true);
    }

    /**
     * As the four-argument constructor; a server coming free goes to a client it {@code suits} (in pgmux: one on the
     * same event loop, which spares both loops a wake-up per message) when one waits close behind the longest-waiting
     * client, which is passed over at most {@value #MAX_PASS_OVERS} times.
     */
    public PoolState(
            PoolLimits limits,
            DoubleSupplier lifetimeFactor,
            ConnectionBudget dbBudget,
            ConnectionBudget userBudget,
            BiPredicate<S, W> suits) {
        this.limits = limits;
        this.lifetimeFactor = lifetimeFactor;
        this.generation = new Generation(0, dbBudget, userBudget);
        this.suits = suits;
    }

    /** Factors spread evenly over 1 ± {@link #LIFETIME_JITTER}, drawn from {@code random}. */
    public static DoubleSupplier jitteredLifetimes(Random random) {
        return () -> 1.0 - LIFETIME_JITTER + 2 * LIFETIME_JITTER * random.nextDouble();
    }

    /** A waiter asks for a server; {@code preferred} picks among idle ones (e.g. same event loop). */
    public List<Decision<S, W>> acquire(W waiter, long nowNanos, Predicate<S> preferred) {
        return acquire(waiter, preferred, nowNanos);
    }

    /** {@link #acquire(Object, long, Predicate)}, preferring the idle servers that {@code suit} the waiter. */
    public List<Decision<S, W>> acquire(W waiter, long nowNanos) {
        return acquire(waiter, null, nowNanos);
    }

    /** {@code preferred} null: the servers that suit {@code waiter}; no predicate object per acquire. */
    private List<Decision<S, W>> acquire(W waiter, Predicate<S> preferred, long nowNanos) {
        if (!closed && !paused) {
            IdleServer<S> chosen = takeIdle(waiter, preferred);
            if (chosen != null) {
                // The busy path: one decision, no list to grow.
                leased.add(chosen.server());
                return List.of(new Decision.Lease<>(chosen.server(), waiter));
            }
        }
        if (closed) {
            return List.of(new Decision.Reject<>(waiter, SqlState.ADMIN_SHUTDOWN, "pool is closed"));
        }
        if (paused) {
            waiters.addLast(new Waiting<>(waiter, nowNanos));
            return List.of();
        }
        if (isBackingOff(nowNanos)) {
            if (bornNanos.isEmpty() && connecting == 0) {
                // Nothing could serve this client before the next attempt: tell it now why.
                return List.of(new Decision.Reject<>(waiter, lastFailureState, lastFailureMessage));
            }
            waiters.addLast(new Waiting<>(waiter, nowNanos));
            return List.of();
        }
        waiters.addLast(new Waiting<>(waiter, nowNanos));
        if (total() >= limits.size()) {
            return List.of(); // the busy path: the client waits, nothing to decide
        }
        List<Decision<S, W>> out = new ArrayList<>(1);
        if (takeRoom(out)) {
            connecting++;
            out.add(new Decision.Connect<>(generation));
        }
        return out;
    }

    private boolean prefers(W waiter, Predicate<S> preferred, S server) {
        return preferred != null ? preferred.test(server) : suits.test(server, waiter);
    }

    private boolean isBackingOff(long nowNanos) {
        return retryDelayNanos > 0 && nowNanos - retryAtNanos < 0;
    }

    private IdleServer<S> takeIdle(W waiter, Predicate<S> preferred) {
        IdleServer<S> newest = idle.peekFirst();
        if (newest == null || prefers(waiter, preferred, newest.server())) {
            return idle.pollFirst(); // the usual case: no iterator
        }
        for (Iterator<IdleServer<S>> it = idle.iterator(); it.hasNext(); ) {
            IdleServer<S> candidate = it.next();
            if (prefers(waiter, preferred, candidate.server())) {
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

    /** A connect decided earlier, in {@code from} (what its {@link Decision.Connect} carried), succeeded. */
    public List<Decision<S, W>> connected(S server, Generation from, long nowNanos) {
        connecting--;
        if (isCurrent(from)) {
            // Only a server of the current generation says that logins work where the pool now connects.
            retryDelayNanos = 0;
        }
        bornNanos.put(server, new Open(nowNanos, lifetimeFactor.getAsDouble(), from));
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
        if (!isCurrent(from)) {
            // Decided before a RECONNECT: it may log in where the configuration no longer points.
            forget(server);
            out.add(new Decision.Close<>(server, CloseReason.RECONNECT));
            connectForWaiters(out, nowNanos);
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
     * A connect decided earlier, in {@code from}, failed. Waiters fail at once when nothing else could serve them (no
     * server open and no other connect in flight); otherwise they keep waiting. No new connect is tried before
     * server-login-retry has passed (doubling while failures go on). A connect of an older generation tells nothing
     * about where the pool connects now: its waiters get a connect of the current generation instead.
     */
    public List<Decision<S, W>> connectFailed(Generation from, SqlState sqlState, String message, long nowNanos) {
        connecting--;
        from.give();
        List<Decision<S, W>> out = new ArrayList<>();
        if (!isCurrent(from)) {
            connectForWaiters(out, nowNanos);
            return out;
        }
        long retry = limits.serverLoginRetry().toNanos();
        if (retry > 0) {
            retryDelayNanos = retryDelayNanos == 0
                    ? retry
                    : Math.min(2 * retryDelayNanos, Math.max(retry, PoolLimits.MAX_LOGIN_RETRY.toNanos()));
            retryAtNanos = nowNanos + retryDelayNanos;
            lastFailureState = sqlState;
            lastFailureMessage = message;
        }
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
    /**
     * {@link #release}, for a server its client let go of only after a wait (for a cancel request's answer): it may
     * have been lost meanwhile, and then there is nothing to do.
     */
    public List<Decision<S, W>> releaseUnlessLost(S server, CloseReason closeReason, long nowNanos) {
        if (!leased.contains(server) && !bornNanos.containsKey(server)) {
            return List.of();
        }
        return release(server, closeReason, nowNanos);
    }

    public List<Decision<S, W>> release(S server, CloseReason closeReason, long nowNanos) {
        if (!leased.remove(server)) {
            throw new IllegalStateException("server not leased: " + server);
        }
        CloseReason reason = closeReason;
        if (reason == null && closed) {
            reason = CloseReason.SHUTDOWN;
        }
        if (reason == null && paused) {
            reason = CloseReason.PAUSE;
        }
        Open open = bornNanos.get(server);
        if (reason == null && !isCurrent(open.generation())) {
            reason = CloseReason.RECONNECT;
        }
        if (reason == null && isExpired(server, nowNanos)) {
            reason = CloseReason.LIFETIME;
        }
        if (reason == null
                && (total() > limits.size() + limits.reserveSize()
                        || open.generation().isOverLimit())) {
            // The pool, or a budget it shares, was made smaller by a reload.
            reason = CloseReason.POOL_SHRUNK;
        }
        if (reason == null && total() > limits.size() && waiters.isEmpty()) {
            // A reserve server goes as soon as no client waits for it.
            reason = CloseReason.RESERVE;
        }
        if (reason != null) {
            List<Decision<S, W>> out = new ArrayList<>(2);
            forget(server);
            out.add(new Decision.Close<>(server, reason));
            connectForWaiters(out, nowNanos);
            return out;
        }
        // The busy path: at most one decision, no list to grow.
        Waiting<W> waiting = takeWaiterFor(server);
        if (waiting == null) {
            idle.addFirst(new IdleServer<>(server, nowNanos));
            return List.of();
        }
        leased.add(server);
        return List.of(new Decision.Lease<>(server, waiting.waiter()));
    }

    /**
     * A server closed by itself (or failed); it is forgotten wherever it was. Waiters get a connect in its place, but
     * not while a failed login's back-off runs: then, as in {@link #acquire}, they fail at once with the last error when
     * nothing is left that could serve them.
     */
    public List<Decision<S, W>> lost(S server, long nowNanos) {
        List<Decision<S, W>> out = new ArrayList<>(1);
        if (!forget(server)) {
            return out;
        }
        leased.remove(server);
        idle.removeIf(i -> i.server().equals(server));
        if (isBackingOff(nowNanos) && bornNanos.isEmpty() && connecting == 0) {
            while (!waiters.isEmpty()) {
                out.add(new Decision.Reject<>(waiters.pollFirst().waiter(), lastFailureState, lastFailureMessage));
            }
            return out;
        }
        connectForWaiters(out, nowNanos);
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
            if (bornNanos.size() > limits.size() + limits.reserveSize()
                    || bornNanos.get(candidate.server()).generation().isOverLimit()) {
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
            out.add(new Decision.Connect<>(generation));
        }
        // Clients that waited out a login retry, or reserve-timeout, get their connect now.
        connectForWaiters(out, nowNanos);
        return out;
    }

    /**
     * Applies new limits (reload); surplus servers close as they become idle. Waiters get the connects the new limits
     * allow, as at the housekeeping tick: none while a failed login's back-off runs.
     */
    public List<Decision<S, W>> resize(PoolLimits newLimits, long nowNanos) {
        this.limits = newLimits;
        return reap(nowNanos);
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
     * RECONNECT: every server open or connecting now is replaced, the idle ones at once, the leased ones as they come
     * back and those connecting when their connect completes, so that clients notice nothing.
     */
    public List<Decision<S, W>> reconnect(long nowNanos) {
        return reconnect(generation.dbBudget(), generation.userBudget(), nowNanos);
    }

    /**
     * As {@link #reconnect(long)}, and the servers opened from now on draw on these budgets (a reload moved the pool to
     * another server user); those open now keep theirs until they close.
     */
    public List<Decision<S, W>> reconnect(ConnectionBudget dbBudget, ConnectionBudget userBudget, long nowNanos) {
        generation = new Generation(generation.number() + 1, dbBudget, userBudget);
        List<Decision<S, W>> out = new ArrayList<>();
        closeIdle(CloseReason.RECONNECT, out);
        connectForWaiters(out, nowNanos);
        return out;
    }

    /** The generation connects are decided in now. */
    public Generation generation() {
        return generation;
    }

    private boolean isCurrent(Generation g) {
        return g.number() == generation.number();
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
        Waiting<W> waiting = takeWaiterFor(server);
        if (waiting != null) {
            leased.add(server);
            out.add(new Decision.Lease<>(server, waiting.waiter()));
        } else {
            idle.addFirst(new IdleServer<>(server, nowNanos));
        }
    }

    /**
     * The longest-waiting client, unless one of the next few waiting suits {@code server} better and the longest-waiting
     * one has not been passed over {@value #MAX_PASS_OVERS} times yet; null when nobody waits.
     */
    private Waiting<W> takeWaiterFor(S server) {
        Waiting<W> head = waiters.peekFirst();
        if (head == null || suits.test(server, head.waiter())) {
            return waiters.pollFirst();
        }
        if (head != passedOver) {
            passedOver = head;
            passOvers = 0;
        }
        if (passOvers < MAX_PASS_OVERS) {
            int looked = 0;
            for (Iterator<Waiting<W>> it = waiters.iterator(); it.hasNext() && looked < LOOKAHEAD; looked++) {
                Waiting<W> candidate = it.next();
                if (suits.test(server, candidate.waiter())) {
                    it.remove();
                    passOvers++;
                    return candidate;
                }
            }
        }
        return waiters.pollFirst();
    }

    /** Connects for waiters no connect in flight covers, as far as the limits allow and no login back-off runs. */
    private void connectForWaiters(List<Decision<S, W>> out, long nowNanos) {
        if (isBackingOff(nowNanos)) {
            return;
        }
        while (!closed && !paused && waiters.size() > connecting && total() < allowedTotal(nowNanos) && takeRoom(out)) {
            connecting++;
            out.add(new Decision.Connect<>(generation));
        }
    }

    /** size, and the reserve on top once the longest-waiting client has waited reserve-timeout. */
    private int allowedTotal(long nowNanos) {
        Waiting<W> oldest = waiters.peekFirst();
        boolean reserve = limits.reserveSize() > 0
                && oldest != null
                && nowNanos - oldest.sinceNanos() >= limits.reserveTimeout().toNanos();
        return reserve ? limits.size() + limits.reserveSize() : limits.size();
    }

    /**
     * Takes a unit of both budgets of the current generation for a new server, against each budget's own limit. When
     * one is spent, {@code out} (unless null) gets a {@link Decision.NoRoom} for it, so that the pool is woken when room
     * comes free.
     */
    private boolean takeRoom(List<Decision<S, W>> out) {
        ConnectionBudget spent = generation.tryTake();
        if (spent != null && out != null) {
            out.add(new Decision.NoRoom<>(spent));
        }
        return spent == null;
    }

    /** Forgets an open server and gives its room back to the budgets it took it from; false when it was not open. */
    private boolean forget(S server) {
        Open open = bornNanos.remove(server);
        if (open == null) {
            return false;
        }
        open.generation().give();
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
