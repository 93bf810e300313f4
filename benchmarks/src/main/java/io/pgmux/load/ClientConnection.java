package io.pgmux.load;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.auth.Md5;
import io.pgmux.protocol.auth.ScramClientExchange;
import io.pgmux.protocol.auth.ScramServerExchange;
import io.pgmux.protocol.message.Authentication;
import io.pgmux.protocol.message.ErrorResponse;
import io.pgmux.protocol.message.Message;
import io.pgmux.protocol.message.PasswordMessage;
import io.pgmux.protocol.message.Query;
import io.pgmux.protocol.message.ReadyForQuery;
import io.pgmux.protocol.message.SaslInitialResponse;
import io.pgmux.protocol.message.SaslResponse;
import io.pgmux.protocol.message.StartupMessage;
import io.pgmux.protocol.message.Terminate;
import io.pgmux.protocol.message.TransactionStatus;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One simulated client on its channel's event loop: logs in (trust, cleartext, MD5 or SCRAM-SHA-256), then runs
 * transactions one statement per round trip, as pgbench does, and reports to {@link LoadStats}. Everything here runs
 * on the channel's loop except {@link #stop()}, which hops onto it.
 */
final class ClientConnection extends SimpleChannelInboundHandler<Frame> {
    /** What a client does once it is logged in. */
    enum Role {
        /** Transactions back to back (with think time) until stopped. */
        ACTIVE,
        /** Nothing: it holds a logged-in connection, as an idle application connection does. */
        IDLE,
        /** One transaction, then Terminate; the harness opens the next connection. */
        STORM,
        /** One transaction from a fixed script (set-up), then Terminate. */
        SCRIPT
    }

    private enum State {
        CONNECTING,
        AUTHENTICATING,
        STARTING,
        READY,
        RUNNING,
        ROLLING_BACK,
        TERMINATED
    }

    /** Told when a client has logged in and when its connection is gone. */
    interface Listener {
        void loggedIn(ClientConnection client);

        /** @param completed true when it ended as its role intends (Terminate), false when it failed */
        void closed(ClientConnection client, boolean completed);

        /** True once the whole run is stopping: clients still logging in then leave at once. */
        boolean stopping();
    }

    private static final SecureRandom SCRAM_RANDOM = new SecureRandom();

    private final ClientSpec spec;
    private final ScramKeyCache scramKeys;
    private final Role role;
    private final List<Workload.Call> script;
    private final LoadStats stats;
    private final Listener listener;
    private final SplittableRandom random;
    private final Map<Workload.Statement, String> prepared = new HashMap<>();

    private ChannelHandlerContext ctx;
    private State state = State.CONNECTING;
    private ScramClientExchange scram;
    private long connectStartNanos;
    private long transactionStartNanos;
    private List<Workload.Call> calls;
    private int callIndex;
    private String transactionError;
    private boolean stopping;
    private boolean loggedIn;
    private boolean completed;

    ClientConnection(
            ClientSpec spec,
            ScramKeyCache scramKeys,
            Role role,
            List<Workload.Call> script,
            LoadStats stats,
            Listener listener,
            long seed) {
        this.spec = spec;
        this.scramKeys = scramKeys;
        this.role = role;
        this.script = script;
        this.stats = stats;
        this.listener = listener;
        this.random = new SplittableRandom(seed);
        this.connectStartNanos = System.nanoTime();
    }

    Role role() {
        return role;
    }

    /** Read on the event loop, when the connection has closed. */
    boolean wasLoggedIn() {
        return loggedIn;
    }

    /** Ends this client after its current transaction; safe from any thread. */
    void stop() {
        ChannelHandlerContext c = ctx;
        if (c == null) {
            return;
        }
        c.executor().execute(() -> {
            stopping = true;
            if (state == State.READY) {
                terminate();
            }
        });
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        state = State.AUTHENTICATING;
        send(new StartupMessage(
                StartupMessage.PROTOCOL_3_0,
                Map.of("user", spec.user(), "database", spec.database(), "application_name", "pgmux-bench")));
        ctx.flush();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
        switch (frame.type()) {
            case MessageType.Backend.AUTHENTICATION -> authenticate(Authentication.decode(frame.body()));
            case MessageType.Backend.ERROR_RESPONSE -> failed(ErrorResponse.decode(frame.body()));
            case MessageType.Backend.READY_FOR_QUERY ->
                ready(ReadyForQuery.decode(frame.body()).status());
            default -> {
                // rows, descriptions, completions, notices, parameter status: read past, as pgbench does
            }
        }
    }

    private void authenticate(Authentication request) {
        if (request instanceof Authentication.Ok) {
            state = State.STARTING;
        } else if (request instanceof Authentication.CleartextPassword) {
            sendAndFlush(new PasswordMessage(spec.password()));
        } else if (request instanceof Authentication.Md5Password md5) {
            String stored = Md5.encrypt(spec.password(), spec.user());
            sendAndFlush(new PasswordMessage(Md5.saltedResponse(stored, md5.salt())));
        } else if (request instanceof Authentication.Sasl) {
            scram = scramKeys.newExchange(SCRAM_RANDOM);
            sendAndFlush(new SaslInitialResponse(ScramServerExchange.MECHANISM, scram.clientFirst()));
        } else if (request instanceof Authentication.SaslContinue next) {
            sendAndFlush(new SaslResponse(scram.clientFinal(next.data())));
            scramKeys.learn(next.data());
        } else if (request instanceof Authentication.SaslFinal last) {
            scram.verifyServerFinal(last.data());
        } else {
            stats.error("unsupported-auth");
            state = State.TERMINATED;
            ctx.close();
        }
    }

    private void failed(ErrorResponse error) {
        if (state == State.RUNNING || state == State.ROLLING_BACK) {
            if (transactionError == null) {
                transactionError = error.sqlState();
            }
            return;
        }
        // A login refused (or a FATAL between transactions): PostgreSQL closes the connection after it.
        stats.error(error.sqlState());
        state = State.TERMINATED;
        ctx.close();
    }

    private void ready(TransactionStatus status) {
        switch (state) {
            case STARTING -> {
                state = State.READY;
                loggedIn = true;
                stats.login(System.nanoTime() - connectStartNanos);
                stats.connected();
                listener.loggedIn(this);
                if (stopRequested()) {
                    terminate();
                } else if (role != Role.IDLE) {
                    beginTransaction();
                }
            }
            case RUNNING -> {
                if (transactionError != null) {
                    stats.error(transactionError);
                    if (status == TransactionStatus.FAILED || status == TransactionStatus.IN_TRANSACTION) {
                        state = State.ROLLING_BACK;
                        sendAndFlush(new Query("ROLLBACK"));
                    } else {
                        endTransaction(false);
                    }
                } else if (++callIndex < calls.size()) {
                    sendCall();
                } else {
                    endTransaction(true);
                }
            }
            case ROLLING_BACK -> endTransaction(false);
            default -> {
                stats.error("unexpected-ready");
                ctx.close();
            }
        }
    }

    private boolean stopRequested() {
        return stopping || listener.stopping();
    }

    private void beginTransaction() {
        if (stopRequested()) {
            terminate();
            return;
        }
        state = State.RUNNING;
        calls = role == Role.SCRIPT ? script : spec.workload().nextTransaction(random, spec.scale());
        callIndex = 0;
        transactionError = null;
        transactionStartNanos = System.nanoTime();
        sendCall();
    }

    private void sendCall() {
        ByteBuf out = ctx.alloc().buffer(256);
        spec.protocol().write(calls.get(callIndex), prepared, out);
        ctx.writeAndFlush(out, ctx.voidPromise());
    }

    private void endTransaction(boolean succeeded) {
        state = State.READY;
        if (succeeded) {
            stats.transaction(System.nanoTime() - transactionStartNanos);
        }
        if (role == Role.STORM || role == Role.SCRIPT || stopRequested()) {
            completed = succeeded;
            terminate();
        } else if (spec.thinkTimeMicros() > 0) {
            ctx.executor().schedule(this::beginTransaction, spec.thinkTimeMicros(), TimeUnit.MICROSECONDS);
        } else {
            beginTransaction();
        }
    }

    private void terminate() {
        if (state == State.TERMINATED) {
            return;
        }
        if (role != Role.STORM && role != Role.SCRIPT) {
            completed = true;
        }
        state = State.TERMINATED;
        send(Terminate.INSTANCE);
        ctx.flush();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state != State.TERMINATED) {
            stats.error(LoadStats.CONNECTION_LOST);
        }
        if (loggedIn) {
            stats.disconnected();
        }
        state = State.TERMINATED;
        listener.closed(this, completed);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        stats.error(LoadStats.CONNECTION_LOST);
        state = State.TERMINATED;
        ctx.close();
    }

    private void send(Message message) {
        ByteBuf out = ctx.alloc().buffer(128);
        message.encode(out);
        ctx.write(out, ctx.voidPromise());
    }

    private void sendAndFlush(Message message) {
        send(message);
        ctx.flush();
    }
}
