package io.pgmux.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.pgmux.directory.ServerSnapshot;
import io.pgmux.directory.SessionDirectory;
import io.pgmux.pool.CloseReason;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.message.BackendKeyData;
import io.pgmux.protocol.message.ErrorResponse;
import io.pgmux.protocol.message.Message;
import io.pgmux.protocol.message.ParameterStatus;
import io.pgmux.protocol.message.Query;
import io.pgmux.protocol.message.StartupMessage;
import io.pgmux.protocol.message.Terminate;
import io.pgmux.session.ServerSettings;
import io.pgmux.tls.TlsDescription;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to PostgreSQL. Its state is touched only on its channel's event loop, except
 * {@link #attach}/{@link #detach} (a volatile hand-over from the client's loop) and writes, which
 * Netty makes thread-safe. States: LOGIN → READY (idle in the pool or attached to a client) →
 * CLOSED. Frames from the server go to the attached client once per read burst.
 */
public final class ServerConnection implements SessionDirectory.Listed<ServerSnapshot> {
    private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);
    private static final AtomicLong IDS = new AtomicLong();

    private enum Phase {
        LOGIN,
        READY,
        /** Running a reset query (DISCARD ALL) for a client that left, before going back to the pool. */
        RESETTING,
        CLOSED
    }

    private final long id = IDS.incrementAndGet();

    private final String name = "s" + id;
    private final String poolName;
    private final Channel channel;
    private final StartupMessage startup;
    private final long createdNanos;
    private final Consumer<ServerConnection> onLost;
    private Phase phase = Phase.LOGIN;
    private ServerLogin login;
    private Promise<ServerConnection> loginPromise;
    private volatile Map<String, String> parameters = Map.of();
    /** Current settings, kept by whoever holds the server (its client, or the pool while idle). */
    private final ServerSettings settings = new ServerSettings();

    private final ServerStatements statements = new ServerStatements();
    private BackendKeyData backendKey;
    private volatile ServerListener client;
    private volatile boolean closing;
    /** Why pgmux closed this connection; null while open, or when the server closed it. */
    private volatile CloseReason closeReason;

    private List<Frame> batch = new ArrayList<>();
    /** The list handed to a client on this loop last time, emptied and ready to be the next batch. */
    private List<Frame> spareBatch;

    private Consumer<Boolean> resetDone;
    private boolean resetFailed;
    private boolean resetDiscards;
    private volatile long idleSinceNanos;
    /** When pgmux opened this connection (epoch milliseconds), for SHOW SERVERS. */
    private final long connectMillis = System.currentTimeMillis();
    /** The TLS protocol and cipher of this connection ("TLSv1.3/TLS_AES_256_GCM_SHA384"), or "" in plain text. */
    private String tls = "";
    /**
     * Cancel requests sent for this connection that PostgreSQL has not answered yet, and what waits for them. Touched
     * only on the loop of the client that holds the connection, which sends the cancels and hears their answers.
     */
    private int cancelsInFlight;

    private Runnable afterCancels;
    /** When the connection last changed hands (epoch milliseconds), for SHOW SERVERS. */
    private volatile long requestMillis = connectMillis;
    /** Statements pgmux prepared on it as of its last detach, for SHOW SERVERS. */
    private volatile int preparedStatements;

    ServerConnection(
            String poolName,
            Channel channel,
            StartupMessage startup,
            ServerCredentials credentials,
            Promise<ServerConnection> loginPromise,
            long createdNanos,
            Consumer<ServerConnection> onLost) {
        this.poolName = poolName;
        this.channel = channel;
        this.startup = startup;
        this.login = new ServerLogin(credentials);
        this.loginPromise = loginPromise;
        this.createdNanos = createdNanos;
        this.onLost = onLost;
    }

    @Override
    public long id() {
        return id;
    }

    public String name() {
        return name;
    }

    public Channel channel() {
        return channel;
    }

    @Override
    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public long createdNanos() {
        return createdNanos;
    }

    /** When the server last went back to its pool (its creation, before that). */
    public long idleSinceNanos() {
        return idleSinceNanos == 0 ? createdNanos : idleSinceNanos;
    }

    /** Marks the server idle from {@code nowNanos}; called by the pool on release. */
    public void idleSince(long nowNanos) {
        this.idleSinceNanos = nowNanos;
    }

    /** What the server reported at login (and since, while idle). */
    public Map<String, String> parameters() {
        return parameters;
    }

    /**
     * The server's current settings as pgmux knows them: what it reported, and what pgmux applied.
     * Read and changed only by the client holding the server; the pool's hand-over orders access.
     */
    public ServerSettings settings() {
        return settings;
    }

    /** The statements pgmux prepared here; like {@link #settings()}, for the client holding the server. */
    public ServerStatements statements() {
        return statements;
    }

    public Optional<BackendKeyData> backendKey() {
        return Optional.ofNullable(backendKey);
    }

    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) channel.remoteAddress();
    }

    /** True while the connection can be handed to a client. */
    public boolean isUsable() {
        return !closing && channel.isActive();
    }

    /** Attaches a client; called on the client's loop before it writes anything. */
    public void attach(ServerListener listener) {
        this.client = listener;
        requestMillis = System.currentTimeMillis();
    }

    /** Detaches the client; called on the client's loop once it needs nothing more from this server. */
    public void detach() {
        this.client = null;
    }

    /** A cancel request for this connection went out; on the loop of the client that holds it. */
    public void cancelSent() {
        cancelsInFlight++;
    }

    /** PostgreSQL answered a cancel request (it closed the cancel connection), or sending it failed. */
    public void cancelAnswered() {
        if (--cancelsInFlight == 0 && afterCancels != null) {
            Runnable then = afterCancels;
            afterCancels = null;
            then.run();
        }
    }

    /** Whether a cancel request for this connection's backend has not been answered by PostgreSQL yet. */
    public boolean hasCancelsInFlight() {
        return cancelsInFlight != 0;
    }

    /**
     * Runs {@code then} now, or once every cancel request sent for this connection is answered: its client lets go
     * of it, and it may go back to the pool only when no late cancel can reach the next client's query (PgBouncer
     * holds such servers back the same way).
     */
    public void afterCancels(Runnable then) {
        if (cancelsInFlight == 0) {
            then.run();
        } else {
            afterCancels = then;
        }
    }

    /** This connection as SHOW SERVERS shows it now; on its own loop (the console asks through the directory). */
    @Override
    public ServerSnapshot snapshot() {
        ServerListener attached = client;
        String state =
                switch (phase) {
                    case LOGIN -> "login";
                    case RESETTING -> "tested";
                    case READY -> attached != null ? "active" : "idle";
                    case CLOSED -> "closed";
                };
        BackendKeyData key = backendKey;
        return new ServerSnapshot(
                name(),
                startup.user(),
                startup.database(),
                state,
                inet(channel.remoteAddress()),
                inet(channel.localAddress()),
                connectMillis,
                requestMillis,
                closing,
                attached == null ? null : attached.name(),
                key == null ? 0 : key.processId(),
                tls,
                parameters.get("application_name"),
                preparedStatements);
    }

    private static InetSocketAddress inet(SocketAddress address) {
        return address instanceof InetSocketAddress a ? a : null;
    }

    /** Writes a frame's wire bytes, transferring their ownership; safe from any thread. */
    public void write(Frame frame) {
        channel.write(frame.content(), channel.voidPromise());
    }

    /** Writes a message pgmux makes itself (e.g. a settings sync); safe from any thread. */
    public void write(Message message) {
        channel.write(message.toByteBuf(channel.alloc()), channel.voidPromise());
    }

    public void flush() {
        channel.flush();
    }

    /** Why the connection closed, for metrics: the reason pgmux gave, else {@link CloseReason#SERVER_CLOSED}. */
    public CloseReason closeReason() {
        CloseReason reason = closeReason;
        return reason != null ? reason : CloseReason.SERVER_CLOSED;
    }

    /** Closes the connection, saying goodbye with Terminate when it is still open; safe from any thread. */
    public void close(CloseReason reason) {
        if (closing) {
            return;
        }
        closing = true;
        closeReason = reason;
        long ageMillis = (System.nanoTime() - createdNanos) / 1_000_000;
        log.info("closing server {} pool={} reason={} age={}ms", name(), poolName, reason, ageMillis);
        if (channel.isActive()) {
            channel.writeAndFlush(Terminate.INSTANCE.toByteBuf(channel.alloc()))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    /**
     * Runs {@code sql} on this server while no client is attached (a reset query such as DISCARD
     * ALL, or the check query), then calls {@code done} on this server's loop with true when the
     * server ended up idle and error-free. With {@code discardsState} the statements and settings
     * pgmux applied are forgotten. Safe from any thread.
     */
    public void runWhileIdle(String sql, boolean discardsState, Consumer<Boolean> done) {
        eventLoop().execute(() -> {
            if (phase != Phase.READY || closing) {
                done.accept(false);
                return;
            }
            phase = Phase.RESETTING;
            resetDone = done;
            resetFailed = false;
            resetDiscards = discardsState;
            if (discardsState) {
                statements.clear();
            }
            channel.writeAndFlush(new Query(sql).toByteBuf(channel.alloc()), channel.voidPromise());
        });
    }

    private void onResetFrame(Frame frame) {
        try {
            switch (frame.type()) {
                case MessageType.Backend.ERROR_RESPONSE -> {
                    ErrorResponse error = ErrorResponse.decode(frame.body());
                    log.warn(
                            "server {} pool={} reset failed: {} (SQLSTATE {})",
                            name(),
                            poolName,
                            error.message(),
                            error.sqlState());
                    resetFailed = true;
                }
                case MessageType.Backend.PARAMETER_STATUS -> {
                    ParameterStatus changed = ParameterStatus.decode(frame.body());
                    settings.put(changed.name(), changed.value());
                }
                case MessageType.Backend.READY_FOR_QUERY -> {
                    boolean idle = frame.content().getByte(frame.content().readerIndex() + Frame.HEADER_LENGTH) == 'I';
                    phase = Phase.READY;
                    if (resetDiscards) {
                        // Settings pgmux applied itself (not reported by the server) are back at their defaults.
                        settings.retainOnly(parameters.keySet());
                    }
                    Consumer<Boolean> done = resetDone;
                    resetDone = null;
                    done.accept(idle && !resetFailed);
                }
                default -> {}
            }
        } finally {
            frame.release();
        }
    }

    /** The connection is ready to log in: connected, and TLS settled when {@code tls.server.mode} asks for it. */
    void onConnected() {
        tls = TlsDescription.of(channel);
        send(startup);
    }

    void onFrame(Frame frame) {
        if (phase == Phase.LOGIN) {
            onLoginFrame(frame);
            return;
        }
        if (phase == Phase.RESETTING) {
            onResetFrame(frame);
            return;
        }
        if (client == null) {
            onUnsolicited(frame);
            return;
        }
        batch.add(frame);
    }

    void onReadComplete() {
        if (batch.isEmpty()) {
            return;
        }
        List<Frame> frames = batch;
        ServerListener listener = client;
        if (listener == null) {
            frames.forEach(ReferenceCountUtil::release);
            frames.clear();
            return;
        }
        EventLoop loop = listener.eventLoop();
        if (loop.inEventLoop()) {
            // The client is done with the list when the call returns: it becomes the spare, no list per burst.
            batch = spareBatch != null ? spareBatch : new ArrayList<>();
            spareBatch = null;
            listener.onServerFrames(this, frames);
            frames.clear();
            spareBatch = frames;
        } else {
            batch = new ArrayList<>();
            loop.execute(() -> listener.onServerFrames(this, frames));
        }
    }

    void onWritabilityChanged() {
        ServerListener listener = client;
        if (listener != null && channel.isWritable()) {
            listener.eventLoop().execute(() -> listener.onServerWritable(this));
        }
    }

    void onInactive() {
        Phase was = phase;
        phase = Phase.CLOSED;
        batch.forEach(ReferenceCountUtil::release);
        batch.clear();
        if (was == Phase.RESETTING && resetDone != null) {
            Consumer<Boolean> done = resetDone;
            resetDone = null;
            done.accept(false);
        }
        if (was == Phase.LOGIN) {
            failLogin(new PgmuxException(
                    SqlState.CONNECTION_FAILURE,
                    "server %s closed the connection during login",
                    channel.remoteAddress()));
            return;
        }
        if (!closing) {
            log.info("server {} pool={} closed the connection", name(), poolName);
        }
        ServerListener listener = client;
        if (listener != null) {
            listener.eventLoop().execute(() -> listener.onServerLost(this, "the server closed the connection"));
        }
        onLost.accept(this);
    }

    void onException(Throwable cause) {
        if (phase == Phase.LOGIN) {
            failLogin(
                    cause instanceof PgmuxException p
                            ? p
                            : new PgmuxException(
                                    SqlState.CONNECTION_FAILURE, "server %s: %s", channel.remoteAddress(), cause));
        } else {
            log.warn("server {} pool={} failed: {}", name(), poolName, cause.toString());
        }
        if (!closing) {
            closeReason = CloseReason.SERVER_ERROR;
        }
        closing = true;
        channel.close();
    }

    private void onLoginFrame(Frame frame) {
        try {
            login.handle(frame).ifPresent(this::send);
        } catch (PgmuxException e) {
            failLogin(e);
            closing = true;
            channel.close();
            return;
        } finally {
            frame.release();
        }
        if (login.isDone()) {
            ServerLogin.Result result = login.result();
            parameters = result.parameters();
            settings.putAll(parameters);
            backendKey = result.backendKey();
            phase = Phase.READY;
            login = null;
            Promise<ServerConnection> promise = loginPromise;
            loginPromise = null;
            log.info(
                    "connected server {} pool={} to {}{}",
                    name(),
                    poolName,
                    channel.remoteAddress(),
                    tls.isEmpty() ? "" : " over " + tls);
            if (!promise.trySuccess(this)) {
                close(CloseReason.SHUTDOWN);
            }
        }
    }

    private void failLogin(PgmuxException error) {
        Promise<ServerConnection> promise = loginPromise;
        loginPromise = null;
        login = null;
        if (promise != null) {
            promise.tryFailure(error);
        }
    }

    /** A message while no client is attached: keep track of settings, close on anything alarming. */
    private void onUnsolicited(Frame frame) {
        if (closing) {
            // The rest of what the server was sending when its client left; it is going away anyway.
            frame.release();
            return;
        }
        try {
            switch (frame.type()) {
                case MessageType.Backend.PARAMETER_STATUS, MessageType.Backend.NOTICE_RESPONSE -> {
                    // harmless while idle: the next client gets its own settings restored anyway
                }
                case MessageType.Backend.ERROR_RESPONSE -> {
                    ErrorResponse error = ErrorResponse.decode(frame.body());
                    log.warn(
                            "server {} pool={} sent an error while idle: {} (SQLSTATE {})",
                            name(),
                            poolName,
                            error.message(),
                            error.sqlState());
                    close(CloseReason.SERVER_ERROR);
                }
                default -> {
                    log.warn(
                            "server {} pool={} sent unexpected message {} while idle",
                            name(),
                            poolName,
                            MessageType.describe(frame.type()));
                    close(CloseReason.SERVER_ERROR);
                }
            }
        } finally {
            frame.release();
        }
    }

    private void send(Message message) {
        channel.writeAndFlush(message.toByteBuf(channel.alloc()), channel.voidPromise());
    }

    @Override
    public String toString() {
        return name();
    }
}
