package io.pgmux.pool;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.pgmux.config.DatabaseConfig;
import io.pgmux.config.PoolSettings;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.metrics.PoolMetrics;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.SqlState;
import io.pgmux.server.ServerConnection;
import io.pgmux.server.ServerConnector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The servers of one (database, user): carries out the {@link Decision}s of its {@link PoolState}.
 * Calls come from many event loops; the state is guarded by a lock held only while deciding, never
 * during I/O, which costs less than hopping to a home loop on every transaction. Side effects
 * (connect, hand over, close) run after the lock is released. Its servers count against the budgets it shares with the
 * other pools of its database and of its server user (max-db-connections, max-user-connections).
 */
public final class Pool implements ConnectionBudget.Member {
    private static final Logger log = LoggerFactory.getLogger(Pool.class);
    /** How many answers may run one inside another on a thread before the next becomes a task (see {@link #answer}). */
    static final int MAX_NESTED_ANSWERS = 8;

    private static final FastThreadLocal<int[]> ANSWER_DEPTH = new FastThreadLocal<>() {
        @Override
        protected int[] initialValue() {
            return new int[1];
        }
    };

    private final PoolKey key;
    private final PoolState<ServerConnection, ServerRequest> state;
    private final ServerConnector connector;
    private final LongSupplier nanoClock;
    private final PoolMetrics metrics;
    private final ConnectionBudget dbBudget;
    /** That of the server user the pool logs in as now; a reload may move the pool to another. */
    private volatile ConnectionBudget userBudget;
    /**
     * Every budget this pool has drawn on: its servers of before a reload that moved it still hold room in the old
     * user budget, and give it back (waking that budget's starving pools) as they close.
     */
    private final Set<ConnectionBudget> budgets = new CopyOnWriteArraySet<>();
    /** Where the last client asked from: connects made without a client at hand (room came free) run there. */
    private volatile EventLoop lastLoop;

    private volatile ServerConnector.Target target;
    private volatile DatabaseConfig database;
    private volatile Map<String, String> serverParameters;
    /** PAUSEs waiting for the last server to close; guarded by {@code state}. */
    private final List<CompletableFuture<Void>> drainWaiters = new ArrayList<>();
    /** Whether {@code drainWaiters} has any: read without the lock on every decision, so it must be cheap. */
    private volatile boolean pauseWaiting;

    /** A pool whose servers count against budgets shared with other pools (of its database, of its server user). */
    public Pool(
            PoolKey key,
            DatabaseConfig database,
            ServerConnector.Target target,
            ServerConnector connector,
            LongSupplier nanoClock,
            PgmuxMetrics metrics,
            ConnectionBudget dbBudget,
            ConnectionBudget userBudget) {
        this.key = key;
        this.database = database;
        this.target = target;
        this.connector = connector;
        this.nanoClock = nanoClock;
        this.dbBudget = dbBudget;
        this.userBudget = userBudget;
        // Each server's lifetime is jittered (±10 %) so that servers opened together are not all replaced at once.
        this.state = new PoolState<>(
                limits(database.pool()),
                PoolState.jitteredLifetimes(new Random()),
                dbBudget,
                userBudget,
                (server, request) -> server.eventLoop() == request.eventLoop());
        // Last: the gauges call counts() at scrape time, which needs the state above.
        this.metrics = metrics.pool(key, this::counts);
        budgets.add(dbBudget);
        budgets.add(userBudget);
        dbBudget.join(this);
        userBudget.join(this);
    }

    static PoolLimits limits(PoolSettings settings) {
        return new PoolLimits(
                settings.size(),
                settings.minSize(),
                settings.serverIdleTimeout(),
                settings.serverLifetime(),
                settings.serverLoginRetry(),
                settings.reserveSize(),
                settings.reserveTimeout());
    }

    public PoolKey key() {
        return key;
    }

    public PoolSettings settings() {
        return database.pool();
    }

    public DatabaseConfig database() {
        return database;
    }

    /** This pool's meters, for its clients and servers to report to. */
    public PoolMetrics metrics() {
        return metrics;
    }

    /** ParameterStatus values of this pool's servers, known after the first login; null before. */
    public Map<String, String> serverParameters() {
        return serverParameters;
    }

    /**
     * Asks for a server for {@code request}, which is answered on its own loop, with an idle server on that same loop
     * if there is one. {@link #cancelWait} withdraws a request still waiting.
     */
    public void acquire(ServerRequest request) {
        EventLoop loop = request.eventLoop();
        lastLoop = loop;
        List<Decision<ServerConnection, ServerRequest>> decisions;
        synchronized (state) {
            decisions = state.acquire(request, nanoClock.getAsLong());
        }
        apply(decisions, loop);
    }

    /** Withdraws a waiting request; false when it is not waiting (a server is already on its way to it). */
    public boolean cancelWait(ServerRequest request) {
        synchronized (state) {
            return state.cancelWait(request);
        }
    }

    /** Returns a leased server; with a {@code closeReason} it is closed instead of reused. */
    public void release(ServerConnection server, CloseReason closeReason) {
        release(server, closeReason, false);
    }

    /**
     * {@link #release}, for a server its client let go of only after waiting for a cancel request's answer: it may
     * have been lost meanwhile, and then nothing happens.
     */
    public void releaseUnlessLost(ServerConnection server, CloseReason closeReason) {
        release(server, closeReason, true);
    }

    private void release(ServerConnection server, CloseReason closeReason, boolean mayBeLost) {
        if (closeReason == null && !server.isUsable()) {
            closeReason = CloseReason.SERVER_ERROR;
        }
        List<Decision<ServerConnection, ServerRequest>> decisions;
        long now = nanoClock.getAsLong();
        server.idleSince(now);
        synchronized (state) {
            decisions = mayBeLost
                    ? state.releaseUnlessLost(server, closeReason, now)
                    : state.release(server, closeReason, now);
        }
        apply(decisions, server.eventLoop());
        if (decisions.isEmpty()) {
            // Parked idle: another pool of the database or user may be waiting for room.
            dbBudget.offerIdle(this);
            userBudget.offerIdle(this);
        }
    }

    /** A server closed by itself. */
    void lost(ServerConnection server) {
        metrics.serverClosed(server.closeReason());
        List<Decision<ServerConnection, ServerRequest>> decisions;
        synchronized (state) {
            decisions = state.lost(server, nanoClock.getAsLong());
        }
        apply(decisions, server.eventLoop());
        wakeBudgets();
    }

    @Override
    public boolean closeIdleServer() {
        List<Decision<ServerConnection, ServerRequest>> decisions;
        synchronized (state) {
            decisions = state.closeIdleForRoom();
        }
        if (decisions.isEmpty()) {
            return false;
        }
        log.info("pool {} closes an idle server to make room for another pool of its database or user", key);
        apply(decisions, null);
        return true;
    }

    @Override
    public void retryWaiters() {
        EventLoop loop = lastLoop;
        if (loop == null) {
            return;
        }
        List<Decision<ServerConnection, ServerRequest>> decisions;
        synchronized (state) {
            decisions = state.retryWaiters(nanoClock.getAsLong());
        }
        apply(decisions, loop);
    }

    @Override
    public boolean wantsRoom() {
        synchronized (state) {
            return state.waitingCount() > state.connectingCount();
        }
    }

    private void wakeBudgets() {
        budgets.forEach(ConnectionBudget::wake);
    }

    /** Housekeeping tick: reap idle and old servers, keep min-size warm. */
    public void reap(EventLoop loop) {
        List<Decision<ServerConnection, ServerRequest>> decisions;
        synchronized (state) {
            decisions = state.reap(nanoClock.getAsLong());
        }
        apply(decisions, loop);
    }

    /**
     * Takes new settings (reload), and {@code newUserBudget}, that of the server user it logs in as from now on. When
     * the server moved (address, database, login), its servers are replaced as RECONNECT replaces them, so that every
     * transaction from now on runs where the configuration says, and connects still in flight are closed when they
     * complete.
     */
    public void reconfigure(
            DatabaseConfig newDatabase,
            ServerConnector.Target newTarget,
            ConnectionBudget newUserBudget,
            EventLoop loop) {
        ConnectionBudget oldUserBudget = userBudget;
        boolean moved = !sameServer(database, newDatabase) || newUserBudget != oldUserBudget;
        // Before the new generation starts: a connect decided in it must find the new target.
        this.database = newDatabase;
        this.target = newTarget;
        if (newUserBudget != oldUserBudget) {
            budgets.add(newUserBudget);
            newUserBudget.join(this);
            userBudget = newUserBudget;
            oldUserBudget.leave(this);
        }
        List<Decision<ServerConnection, ServerRequest>> decisions = new ArrayList<>();
        long now = nanoClock.getAsLong();
        synchronized (state) {
            if (moved) {
                decisions.addAll(state.reconnect(dbBudget, newUserBudget, now));
            }
            decisions.addAll(state.resize(limits(newDatabase.pool()), now));
        }
        if (moved) {
            // As PgBouncer does: servers of the old address (or database, or login) are replaced as they are released.
            log.info("pool {}: its server changed, reconnecting", key);
        }
        apply(decisions, loop);
    }

    private static boolean sameServer(DatabaseConfig a, DatabaseConfig b) {
        return a.host().equals(b.host())
                && a.port() == b.port()
                && a.dbname().equals(b.dbname())
                && a.user().equals(b.user())
                && a.password().equals(b.password());
    }

    /**
     * PAUSE: no new server work starts (clients wait, counting against query-wait-timeout), idle servers close now
     * and leased ones as their clients release them. The future completes, on whichever thread released the last
     * server, once none is left; at once when there is none.
     */
    public CompletableFuture<Void> pause(EventLoop loop) {
        CompletableFuture<Void> drained = new CompletableFuture<>();
        List<Decision<ServerConnection, ServerRequest>> decisions;
        synchronized (state) {
            decisions = state.pause();
            drainWaiters.add(drained);
            pauseWaiting = true;
        }
        log.info("pool {} paused", key);
        apply(decisions, loop);
        completeDrainWaiters();
        return drained;
    }

    /** Starts this new pool paused, as its database is: it has no server to close yet. */
    void startPaused() {
        synchronized (state) {
            state.pause();
        }
    }

    /** RESUME: waiting clients get servers again. */
    public void resume(EventLoop loop) {
        List<Decision<ServerConnection, ServerRequest>> decisions;
        List<CompletableFuture<Void>> abandoned;
        synchronized (state) {
            decisions = state.resume(nanoClock.getAsLong());
            abandoned = List.copyOf(drainWaiters);
            drainWaiters.clear();
            pauseWaiting = false;
        }
        log.info("pool {} resumed", key);
        // A PAUSE still waiting for its servers has nothing left to wait for.
        abandoned.forEach(f -> f.completeExceptionally(
                new PgmuxException(SqlState.QUERY_CANCELED, "pool %s was resumed before it was paused", key)));
        apply(decisions, loop);
    }

    public boolean isPaused() {
        synchronized (state) {
            return state.isPaused();
        }
    }

    /** RECONNECT: replaces every server open now, idle ones at once and leased ones as they are released. */
    public void reconnect(EventLoop loop) {
        List<Decision<ServerConnection, ServerRequest>> decisions;
        synchronized (state) {
            decisions = state.reconnect(nanoClock.getAsLong());
        }
        log.info("pool {}: reconnecting its servers", key);
        apply(decisions, loop);
    }

    /** Clients of this pool in any state (for a retired pool: whether it can close). */
    int clientCount() {
        int n = 0;
        for (io.pgmux.metrics.ClientState s : io.pgmux.metrics.ClientState.values()) {
            n += metrics.clients(s);
        }
        return n;
    }

    /** Closes idle servers now and the others as they come back; waiters fail. */
    public void close(EventLoop loop) {
        List<Decision<ServerConnection, ServerRequest>> decisions;
        synchronized (state) {
            decisions = state.close(SqlState.ADMIN_SHUTDOWN, "pgmux is shutting down");
        }
        budgets.forEach(budget -> budget.leave(this));
        apply(decisions, loop);
    }

    /** A consistent copy of the counts, for logs, metrics and the console. */
    public Counts counts() {
        synchronized (state) {
            return new Counts(
                    state.openCount(),
                    state.idleCount(),
                    state.leasedCount(),
                    state.connectingCount(),
                    state.waitingCount(),
                    state.limits().size(),
                    state.longestWaitNanos(nanoClock.getAsLong()));
        }
    }

    /**
     * Server and waiter counts of a pool at one moment; {@code maxWaitNanos} is how long the longest-waiting client
     * has waited (0 when none waits).
     */
    public record Counts(int open, int idle, int leased, int connecting, int waiting, int maxSize, long maxWaitNanos) {
        public Counts(int open, int idle, int leased, int connecting, int waiting, int maxSize) {
            this(open, idle, leased, connecting, waiting, maxSize, 0);
        }
    }

    /** Carries out decisions; {@code loop} is where a {@link Decision.Connect} runs. */
    private void apply(List<Decision<ServerConnection, ServerRequest>> decisions, EventLoop loop) {
        boolean roomFreed = false;
        for (int i = 0, n = decisions.size(); i < n; i++) { // indexed: no iterator per acquire and release
            Decision<ServerConnection, ServerRequest> decision = decisions.get(i);
            if (decision instanceof Decision.Lease<ServerConnection, ServerRequest> lease) {
                hand(lease.server(), lease.waiter());
            } else if (decision instanceof Decision.Connect<ServerConnection, ServerRequest> connect) {
                connect(loop, connect.generation());
            } else if (decision instanceof Decision.Reject<ServerConnection, ServerRequest> reject) {
                answer(reject.waiter(), null, new PgmuxException(reject.sqlState(), reject.message()));
            } else if (decision instanceof Decision.Close<ServerConnection, ServerRequest> close) {
                close.server().close(close.reason());
                roomFreed = true;
            } else if (decision instanceof Decision.NoRoom<ServerConnection, ServerRequest> noRoom) {
                noRoom.budget().noRoom(this);
            }
        }
        if (roomFreed) {
            wakeBudgets();
        }
        if (pauseWaiting) {
            completeDrainWaiters();
        }
    }

    private void completeDrainWaiters() {
        List<CompletableFuture<Void>> done;
        synchronized (state) {
            if (drainWaiters.isEmpty() || !state.isDrained()) {
                return;
            }
            done = List.copyOf(drainWaiters);
            drainWaiters.clear();
            pauseWaiting = false;
        }
        done.forEach(f -> f.complete(null));
    }

    /**
     * Answers {@code waiter} with {@code server}, checking it first when it sat idle past server-check-delay; a server
     * found dead is closed and the waiter asks again.
     */
    private void hand(ServerConnection server, ServerRequest waiter) {
        if (!server.isUsable()) {
            // Died while idle and its close is still on the way: never hand it out.
            release(server, CloseReason.SERVER_ERROR);
            acquire(waiter);
            return;
        }
        PoolSettings settings = settings();
        long idleNanos = nanoClock.getAsLong() - server.idleSinceNanos();
        if (!settings.serverCheckQuery().isBlank()
                && idleNanos >= settings.serverCheckDelay().toNanos()) {
            // Idle long enough that it may have died quietly (a firewall, a restart): check it first.
            server.runWhileIdle(settings.serverCheckQuery(), false, ok -> {
                if (ok) {
                    answer(waiter, server, null);
                } else {
                    release(server, CloseReason.CHECK_FAILED);
                    acquire(waiter);
                }
            });
            return;
        }
        if (server.eventLoop() != waiter.eventLoop()) {
            metrics.leasedAcrossLoops();
        }
        answer(waiter, server, null);
    }

    /** Gives {@code request} its server, or else {@code error}, on the request's loop. */
    private static void answer(ServerRequest request, ServerConnection server, PgmuxException error) {
        EventLoop loop = request.eventLoop();
        if (loop.inEventLoop() && enterAnswer()) {
            try {
                deliver(request, server, error);
            } finally {
                leaveAnswer();
            }
        } else {
            // Through answer again, not straight to deliver: the answer the task runs is the first of a new chain
            // and must count as one, or the chain behind it nests one deeper than the bound.
            loop.execute(() -> answer(request, server, error));
        }
    }

    private static void deliver(ServerRequest request, ServerConnection server, PgmuxException error) {
        if (error == null) {
            request.granted(server);
        } else {
            request.refused(error);
        }
    }

    /**
     * Whether an answer may run inside the current call: an answer can release a server at once (a client still
     * logging in only checks that a server is there), which answers the next request, and so on; past
     * {@value #MAX_NESTED_ANSWERS} nested answers the next one is a task, so that the stack stays short.
     */
    private static boolean enterAnswer() {
        int[] depth = ANSWER_DEPTH.get();
        if (depth[0] >= MAX_NESTED_ANSWERS) {
            return false;
        }
        depth[0]++;
        return true;
    }

    private static void leaveAnswer() {
        ANSWER_DEPTH.get()[0]--;
    }

    private void connect(EventLoop loop, PoolState.Generation generation) {
        ServerConnector.Target t = target;
        connector.connect(loop, t, this::lost).addListener(f -> {
            List<Decision<ServerConnection, ServerRequest>> decisions;
            if (f.isSuccess()) {
                ServerConnection server = (ServerConnection) f.getNow();
                metrics.serverConnected();
                if (serverParameters == null) {
                    serverParameters = server.parameters();
                }
                synchronized (state) {
                    decisions = state.connected(server, generation, nanoClock.getAsLong());
                }
            } else {
                PgmuxException error = f.cause() instanceof PgmuxException p
                        ? p
                        : new PgmuxException(SqlState.CONNECTION_FAILURE, "server connection failed: %s", f.cause());
                log.warn("server connection for pool {} failed: {}", key, error.getMessage());
                metrics.serverConnectFailed();
                synchronized (state) {
                    decisions = state.connectFailed(
                            generation, error.sqlState(), error.getMessage(), nanoClock.getAsLong());
                }
                // The failed connect's room is free again: another pool may use it.
                apply(decisions, loop);
                wakeBudgets();
                return;
            }
            apply(decisions, loop);
        });
    }

    @Override
    public String toString() {
        return "Pool[" + key + "]";
    }
}
