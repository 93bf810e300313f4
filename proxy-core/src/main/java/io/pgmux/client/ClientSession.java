package io.pgmux.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgmux.admin.AdminConsole;
import io.pgmux.auth.ClientAuthenticator;
import io.pgmux.config.DurationFormat;
import io.pgmux.config.PoolMode;
import io.pgmux.directory.ClientSnapshot;
import io.pgmux.directory.SessionDirectory;
import io.pgmux.metrics.ClientMetrics;
import io.pgmux.metrics.ClientState;
import io.pgmux.pool.CloseReason;
import io.pgmux.pool.Pool;
import io.pgmux.pool.PoolRegistry;
import io.pgmux.pool.ServerRequest;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.Severity;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.message.Authentication;
import io.pgmux.protocol.message.BackendKeyData;
import io.pgmux.protocol.message.CancelRequest;
import io.pgmux.protocol.message.Close;
import io.pgmux.protocol.message.DataRow;
import io.pgmux.protocol.message.ErrorResponse;
import io.pgmux.protocol.message.GssEncRequest;
import io.pgmux.protocol.message.Message;
import io.pgmux.protocol.message.NegotiateProtocolVersion;
import io.pgmux.protocol.message.ParameterStatus;
import io.pgmux.protocol.message.Parse;
import io.pgmux.protocol.message.Query;
import io.pgmux.protocol.message.ReadyForQuery;
import io.pgmux.protocol.message.SslRequest;
import io.pgmux.protocol.message.StartupMessage;
import io.pgmux.protocol.message.StartupPacket;
import io.pgmux.protocol.message.TargetKind;
import io.pgmux.protocol.message.TransactionStatus;
import io.pgmux.server.ServerConnection;
import io.pgmux.server.ServerListener;
import io.pgmux.session.PinReason;
import io.pgmux.session.SessionEffect;
import io.pgmux.session.SessionState;
import io.pgmux.session.SqlClassifier;
import io.pgmux.tls.ClientTlsStart;
import io.pgmux.tls.TlsContexts;
import io.pgmux.tls.TlsDescription;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's protocol state, touched only on its channel's event loop.
 *
 * <p>States: STARTUP (SSLRequest/StartupMessage) → AUTHENTICATING → LOGGING_IN (learning the
 * pool's server parameters) → IDLE ⇄ WAITING (for a server) → ACTIVE (a server attached) → IDLE …
 * → CLOSED. In transaction mode the server is attached at the first message of a transaction and
 * released when it reports ReadyForQuery 'I' with no Query, Sync or FunctionCall left unanswered.
 */
public final class ClientSession
        implements ServerListener, ServerRequest, ServerReplies.Listener, SessionDirectory.Listed<ClientSnapshot> {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    private static final AtomicLong IDS = new AtomicLong();

    /** Protocol 3.2: pgmux speaks it with clients whatever the servers speak (only the cancel key differs). */
    static final int NEWEST_MINOR_VERSION = 2;

    /** Held messages of a client waiting for a server, beyond which pgmux stops reading from it until it has one. */
    private static final int MAX_HELD_BYTES = 256 * 1024;

    private enum Phase {
        STARTUP,
        AUTHENTICATING,
        LOGGING_IN,
        IDLE,
        WAITING,
        ACTIVE,
        CLOSED
    }

    private final long id = IDS.incrementAndGet();
    private final Channel channel;
    private final ClientContext context;
    /** Reports this client's states, traffic and timings to its pool's meters. */
    private final ClientMetrics metrics;

    /** Messages that wait for a server; null until the first one (an idle client keeps no queue). */
    private ArrayDeque<Frame> pending;
    /** Bytes of the messages in {@link #pending}, counted from when it was last empty. */
    private long heldBytes;

    private Phase phase = Phase.STARTUP;
    private boolean counted;
    private StartupMessage startup;
    private ClientAuthenticator.Exchange auth;
    private Pool pool;
    /** The pool's mode when this client logged in: a reload that changes it applies to clients that log in later. */
    private PoolMode mode;

    /** Set on the event loop at login; read by {@link CancelRouter} from whichever loop a CancelRequest came in on. */
    private volatile BackendKeyData cancelKey;

    private ServerConnection server;
    /** Asked the pool for a server and not answered yet. */
    private boolean waiting;
    /** query-wait-timeout, while a request waits; made on the first wait. */
    private Deadline waitDeadline;

    private ScheduledFuture<?> loginTimer;
    /** client-idle-timeout between transactions, idle-transaction-timeout inside one; armed while the client is quiet. */
    private Deadline quietDeadline;
    /** query-timeout from when a request went to the server until its ReadyForQuery, then the cancel's grace period. */
    private Deadline queryDeadline;
    /** query-timeout sent a CancelRequest for the running request; PostgreSQL's 57014 is reworded to say why. */
    private boolean queryCanceled;
    /** Query, Sync and FunctionCall messages sent to the server and not yet answered by ReadyForQuery. */
    private int outstanding;
    /** Extended-protocol messages sent since the last Sync. */
    private boolean inBatch;

    private TransactionStatus status = TransactionStatus.IDLE;
    private boolean wroteToServer;
    /** After an error pgmux made mid-batch, the client's messages are ignored up to its Sync, as PostgreSQL does. */
    private boolean skipUntilSync;
    /** The server was lost while the client sat idle in a transaction: reported at its next message. */
    private PgmuxException pendingError;
    /** Settings to restore on each server, and the state that pins this client to its server. */
    private SessionState session;
    /** Copies of a batch that may be retried once after a stale statement (0A000). */
    private final StaleStatementRetry retry = new StaleStatementRetry();
    /** The replies the attached server owes, the client's and pgmux's own, in order. */
    private final ServerReplies replies = new ServerReplies(this);
    /** The client's named statements (protocol level), prepared on servers under pgmux's names. */
    private NamedStatements statements;
    /** pgmux answered a client request itself; the client channel needs a flush. */
    private boolean wroteToClient;
    /** An ErrorResponse passed since the last ReadyForQuery. */
    private boolean failedSinceReady;
    /** pgmux is stopping: close this client as soon as its transaction ends. */
    private boolean draining;
    /** Set for a client of the admin console, which gets no pool: its requests go here. */
    private AdminConsole admin;
    /** An SSLRequest came (answered 'S' or 'N'): neither it nor a GSSENCRequest may come again. */
    private boolean encryptionAsked;
    /** TLS towards this client, as configured when it connected (a reload changes it for later clients only). */
    private final TlsContexts.ClientSide tls;
    /** SHOW CLIENTS' tls column: protocol/cipher once the handshake is done, else "". */
    private String tlsDescription = "";
    /** When the client connected (epoch ms). */
    private long connectMillis;
    /** When the client last asked for a server (epoch ms). */
    private long requestMillis;
    /** When the client started waiting for a server ({@link System#nanoTime()}). */
    private long waitSinceNanos;

    ClientSession(Channel channel, ClientContext context, TlsContexts.ClientSide tls) {
        this.channel = channel;
        this.context = context;
        this.tls = tls;
        this.metrics = context.metrics().client();
    }

    /** {@code c<id>}: built when asked (logs, SHOW), not kept. */
    @Override
    public String name() {
        return "c" + id;
    }

    @Override
    public long id() {
        return id;
    }

    /** The cancel key this client was given at login; null before. */
    BackendKeyData cancelKey() {
        return cancelKey;
    }

    @Override
    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    // ---- channel events -------------------------------------------------------------------

    void onActive() {
        connectMillis = requestMillis = System.currentTimeMillis();
        context.registry().directory().addClient(this);
        Duration timeout = context.registry().config().pool().clientLoginTimeout();
        if (!timeout.isZero()) {
            loginTimer = channel.eventLoop()
                    .schedule(
                            () -> {
                                if (phase == Phase.STARTUP
                                        || phase == Phase.AUTHENTICATING
                                        || phase == Phase.LOGGING_IN) {
                                    fatal(
                                            SqlState.PROTOCOL_VIOLATION,
                                            "client_login_timeout: login not finished within " + timeout);
                                }
                            },
                            timeout.toMillis(),
                            TimeUnit.MILLISECONDS);
        }
    }

    void onStartupPacket(StartupPacket packet) {
        if (phase != Phase.STARTUP) {
            fatal(SqlState.PROTOCOL_VIOLATION, "unexpected startup packet");
            return;
        }
        if (packet instanceof SslRequest) {
            onSslRequest();
        } else if (packet instanceof GssEncRequest) {
            if (encryptionAsked) {
                fatal(SqlState.PROTOCOL_VIOLATION, "unexpected GSSAPI encryption request after an SSL request");
                return;
            }
            // No GSSAPI encryption: 'N' and the client goes on, maybe with an SSLRequest.
            channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}), channel.voidPromise());
        } else if (packet instanceof CancelRequest cancel) {
            context.cancelRouter().cancel(cancel);
            channel.close();
        } else if (packet instanceof StartupMessage message) {
            onStartupMessage(message);
        }
    }

    /** Answers 'S' and starts TLS when tls.client.mode allows it, else 'N'; only once per connection. */
    private void onSslRequest() {
        if (encryptionAsked) {
            fatal(SqlState.PROTOCOL_VIOLATION, "unexpected SSL request: encryption was already negotiated");
            return;
        }
        encryptionAsked = true;
        if (tls.context().isEmpty()) {
            channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}), channel.voidPromise());
            return;
        }
        ClientTlsStart.begin(channel, tls.context().get()).addListener(f -> {
            if (f.isSuccess()) {
                tlsDescription = TlsDescription.of(channel);
            }
        });
    }

    private void onStartupMessage(StartupMessage message) {
        startup = message;
        if (message.majorVersion() != 3) {
            fatal(
                    SqlState.FEATURE_NOT_SUPPORTED,
                    String.format(
                            "unsupported frontend protocol %d.%d: server supports 3.0 to 3.2",
                            message.majorVersion(), message.minorVersion()));
            return;
        }
        Optional<String> tlsRefusal = tlsRefusal(message);
        if (tlsRefusal.isPresent()) {
            fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION, tlsRefusal.get());
            return;
        }
        if (!context.registry().tryAddClient()) {
            fatal(
                    SqlState.TOO_MANY_CONNECTIONS,
                    "too many client connections (max-client-connections = "
                            + context.registry().config().pool().maxClientConnections() + ")");
            return;
        }
        counted = true;
        String user = message.user();
        if (user == null || user.isEmpty()) {
            fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION, "no PostgreSQL user name specified in startup packet");
            return;
        }
        if (message.parameters().containsKey("replication")
                && !message.parameters().get("replication").equalsIgnoreCase("false")) {
            fatal(SqlState.FEATURE_NOT_SUPPORTED, "replication connections are not supported by pgmux");
            return;
        }
        List<String> unknownOptions = List.of();
        for (String name : message.parameters().keySet()) {
            if (name.startsWith("_pq_.")) {
                if (unknownOptions.isEmpty()) {
                    unknownOptions = new ArrayList<>();
                }
                unknownOptions.add(name);
            }
        }
        if (message.minorVersion() > NEWEST_MINOR_VERSION || !unknownOptions.isEmpty()) {
            // The client goes on with the older of its version and ours, without the options.
            write(new NegotiateProtocolVersion(NEWEST_MINOR_VERSION, unknownOptions));
        }
        phase = Phase.AUTHENTICATING;
        Future<ClientAuthenticator.Exchange> begun =
                context.authenticator().begin(user, message.database(), channel.eventLoop(), name());
        begun.addListener(f -> onExchange(begun));
    }

    /** The login can start: at once for a user pgmux knows, else once auth.query has answered. */
    private void onExchange(Future<ClientAuthenticator.Exchange> begun) {
        if (phase != Phase.AUTHENTICATING) {
            return; // the client went away, or timed out, while auth.query ran
        }
        if (!begun.isSuccess()) {
            PgmuxException error = asPgmux(begun.cause());
            log.info(
                    "client {} login failed: user={} database={}: {}",
                    name(),
                    startup.user(),
                    startup.database(),
                    error.getMessage());
            fatal(error.sqlState(), error.getMessage());
            return;
        }
        auth = begun.getNow();
        onAuthStep(auth.start());
    }

    /**
     * Why tls.client.mode refuses this client, phrased like PostgreSQL's pg_hba.conf refusals: no TLS when it is
     * required, or (verify-full) a certificate whose CN is not the user name. The certificate chain itself was checked
     * in the handshake.
     */
    private Optional<String> tlsRefusal(StartupMessage message) {
        boolean encrypted = ClientTlsStart.isEncrypted(channel);
        if (tls.requiresTls() && !encrypted) {
            InetSocketAddress from = inet(channel.remoteAddress());
            return Optional.of(String.format(
                    "connection without TLS refused for host \"%s\", user \"%s\", database \"%s\": tls.client.mode = %s",
                    from == null ? "?" : from.getHostString(),
                    message.user(),
                    message.database(),
                    tls.mode().configName()));
        }
        if (tls.verifiesUserName()
                && !ClientTlsStart.peerCommonName(channel).equals(Optional.ofNullable(message.user()))) {
            return Optional.of("certificate validation (tls.client.mode = verify-full) failed for user \""
                    + message.user() + "\": CN mismatch");
        }
        return Optional.empty();
    }

    void onFrame(Frame frame) {
        metrics.received(frame.wireLength());
        switch (phase) {
            case AUTHENTICATING -> onAuthFrame(frame);
            case IDLE, WAITING, ACTIVE -> onRequestFrame(frame);
            // A client may send its first query before our ReadyForQuery; it waits its turn.
            case LOGGING_IN -> hold(frame);
            case CLOSED -> frame.release();
            default -> {
                byte type = frame.type();
                frame.release();
                fatal(
                        SqlState.PROTOCOL_VIOLATION,
                        "unexpected message type " + MessageType.describe(type) + " during login");
            }
        }
    }

    void onReadComplete() {
        metrics.countReceivedBytes();
        if (wroteToClient) {
            wroteToClient = false;
            channel.flush();
        }
        if (wroteToServer && server != null) {
            wroteToServer = false;
            server.flush();
            if (!server.channel().isWritable()) {
                // The server is not keeping up (e.g. COPY data): stop reading until it is.
                channel.config().setAutoRead(false);
            }
        }
    }

    void onWritabilityChanged() {
        if (server != null && channel.isWritable()) {
            server.channel().config().setAutoRead(true);
        }
    }

    /** Why a client left without pgmux closing it, for the log. */
    private enum Departure {
        TERMINATE("client sent Terminate"),
        CONNECTION_CLOSED("client closed the connection");

        private final String text;

        Departure(String text) {
            this.text = text;
        }
    }

    void onInactive() {
        depart(Departure.CONNECTION_CLOSED);
    }

    private void depart(Departure reason) {
        if (phase == Phase.CLOSED) {
            return;
        }
        Phase was = phase;
        phase = Phase.CLOSED;
        metrics.state(null);
        cleanUp();
        if (was.compareTo(Phase.IDLE) >= 0) {
            log.info(
                    "client {} disconnected: user={} database={} reason={}",
                    name(),
                    startup.user(),
                    startup.database(),
                    reason.text);
        }
    }

    void onException(Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof PgmuxException e) {
            log.warn("client {} sent bad input: {}", name(), e.getMessage());
            fatal(e.sqlState(), e.getMessage());
        } else if (root instanceof SSLException) {
            log.info("client {} TLS failed: {}", name(), root.getMessage());
            channel.close();
        } else if (root instanceof IOException) {
            log.debug("client {} connection error: {}", name(), root.toString());
            channel.close();
        } else {
            log.error("client {} failed", name(), root);
            fatal(SqlState.INTERNAL_ERROR, "internal error in pgmux: " + root);
        }
    }

    // ---- authentication and login ------------------------------------------------------------

    private void onAuthFrame(Frame frame) {
        byte type = frame.type();
        if (auth == null) {
            // pgmux has not asked for a password yet (auth.query is still running).
            frame.release();
            fatal(
                    SqlState.PROTOCOL_VIOLATION,
                    "unexpected message type " + MessageType.describe(type) + " during login");
            return;
        }
        if (type != MessageType.Frontend.PASSWORD) {
            frame.release();
            fatal(
                    SqlState.PROTOCOL_VIOLATION,
                    "expected password response, got message type " + MessageType.describe(type));
            return;
        }
        ClientAuthenticator.Step step;
        try {
            step = auth.onPassword(frame.body());
        } catch (PgmuxException e) {
            fatal(e.sqlState(), e.getMessage());
            return;
        } finally {
            frame.release();
        }
        onAuthStep(step);
    }

    private void onAuthStep(ClientAuthenticator.Step step) {
        if (step instanceof ClientAuthenticator.Step.Challenge challenge) {
            writeAndFlush(challenge.message());
        } else if (step instanceof ClientAuthenticator.Step.Failure failure) {
            fatal(SqlState.INVALID_PASSWORD, failure.message());
        } else if (step instanceof ClientAuthenticator.Step.Success success) {
            auth = null;
            success.finalMessage().ifPresent(this::write);
            PoolRegistry registry = context.registry();
            success.queriedPassword()
                    .ifPresentOrElse(
                            password ->
                                    registry.rememberQueriedLogin(startup.user(), password, success.scramClientKey()),
                            () -> success.scramClientKey()
                                    .ifPresent(key -> registry.rememberScramClientKey(startup.user(), key)));
            write(new Authentication.Ok());
            onAuthenticated();
        }
    }

    private void onAuthenticated() {
        String database = startup.database();
        if (context.registry().config().admin().isAdminDatabase(database)) {
            startAdmin();
            return;
        }
        Optional<Pool> found = context.registry().pool(database, startup.user());
        if (found.isEmpty()) {
            fatal(SqlState.INVALID_CATALOG_NAME, "database \"" + database + "\" does not exist");
            return;
        }
        pool = found.get();
        mode = pool.settings().mode();
        metrics.joined(pool.metrics());
        phase = Phase.LOGGING_IN;
        if (pool.serverParameters() != null) {
            finishLogin();
        } else {
            // The first client of a pool waits for a server login to learn what to report.
            acquire();
        }
    }

    /** An admin user gets the admin console instead of a pool; anyone else is refused (42501). */
    private void startAdmin() {
        if (!context.registry().config().admin().users().contains(startup.user())) {
            log.info("client {} refused the admin console: user={}", name(), startup.user());
            fatal(SqlState.INSUFFICIENT_PRIVILEGE, "not allowed to connect to the admin console");
            return;
        }
        admin = new AdminConsole(
                channel, name(), context.registry(), context.metrics(), context.actions(), this::onException);
        cancelKey = context.cancelRouter().register(this, startup.minorVersion() >= 2 ? 32 : 4);
        if (loginTimer != null) {
            loginTimer.cancel(false);
            loginTimer = null;
        }
        phase = Phase.IDLE;
        admin.start(startup.parameters(), cancelKey);
        log.info("client {} opened the admin console: user={}", name(), startup.user());
    }

    private void finishLogin() {
        LoginTemplate template = LoginTemplate.of(pool.serverParameters(), startup.parameters());
        session = template.session();
        // Protocol 3.2 (PostgreSQL 18) allows cancel keys up to 256 bytes; 3.0 has 4.
        cancelKey = context.cancelRouter().register(this, startup.minorVersion() >= 2 ? 32 : 4);
        // The rest of the login goes out as one buffer: a dozen ParameterStatus, the cancel key, ReadyForQuery.
        ByteBuf out = channel.alloc().buffer(512);
        template.writeParameterStatus(out);
        cancelKey.encode(out);
        ReadyForQuery.IDLE.encode(out);
        metrics.sent(out.readableBytes());
        channel.writeAndFlush(out, channel.voidPromise());
        if (loginTimer != null) {
            loginTimer.cancel(false);
            loginTimer = null;
        }
        phase = Phase.IDLE;
        metrics.state(ClientState.IDLE);
        becameQuiet();
        log.info(
                "client {} logged in: user={} database={} from {}",
                name(),
                startup.user(),
                startup.database(),
                channel.remoteAddress());
    }

    // ---- requests -----------------------------------------------------------------------------

    private void onRequestFrame(Frame frame) {
        byte type = frame.type();
        if (log.isTraceEnabled()) {
            log.trace("{} -> {} ({})", name(), MessageType.describe(type), phase);
        }
        if (!MessageType.Frontend.isKnown(type) || type == MessageType.Frontend.PASSWORD) {
            frame.release();
            fatal(SqlState.PROTOCOL_VIOLATION, "invalid frontend message type " + MessageType.describe(type));
            return;
        }
        if (type == MessageType.Frontend.TERMINATE) {
            frame.release();
            terminate();
            return;
        }
        if (admin != null) {
            admin.onFrame(frame);
            return;
        }
        if (quietDeadline != null) {
            quietDeadline.disarm();
        }
        if (phase == Phase.ACTIVE) {
            sendToServer(frame);
            return;
        }
        if (phase == Phase.IDLE && (skipUntilSync || pendingError != null)) {
            answerWithoutServer(frame);
            return;
        }
        hold(frame);
        if (phase == Phase.IDLE) {
            acquire();
        }
    }

    /** Handles a message while an error made by pgmux is still being reported (no server involved). */
    private void answerWithoutServer(Frame frame) {
        byte type = frame.type();
        frame.release();
        if (pendingError != null) {
            writeError(pendingError);
            pendingError = null;
            skipUntilSync = true;
        }
        if (type == MessageType.Frontend.QUERY
                || type == MessageType.Frontend.SYNC
                || type == MessageType.Frontend.FUNCTION_CALL) {
            skipUntilSync = false;
            status = TransactionStatus.IDLE;
            write(ReadyForQuery.IDLE);
            becameQuiet();
        }
        channel.flush();
    }

    private void sendToServer(Frame frame) {
        byte type = frame.type();
        retry.onSend(frame, outstanding == 0 && !inBatch, status);
        switch (type) {
            case MessageType.Frontend.QUERY -> {
                startQueryClock();
                outstanding++;
                ByteBuf wire = frame.content();
                if (SqlClassifier.mayAffectSession(
                        wire, wire.readerIndex() + Frame.HEADER_LENGTH, wire.writerIndex() - 1)) {
                    track(SqlClassifier.classify(Query.decode(frame.body()).sql()));
                }
            }
            case MessageType.Frontend.PARSE -> {
                inBatch = true;
                ByteBuf wire = frame.content();
                int body = frame.bodyIndex();
                if (body < wire.writerIndex() && wire.getByte(body) == 0) {
                    // The unnamed statement (libpq's PQexecParams, most drivers): decoded only when its text may
                    // change session state. A malformed one (no end to its text) is decoded to report it.
                    int sqlEnd = wire.indexOf(body + 1, wire.writerIndex(), (byte) 0);
                    if (sqlEnd < 0 || SqlClassifier.mayAffectSession(wire, body + 1, sqlEnd)) {
                        track(SqlClassifier.classify(Parse.decode(frame.body()).sql()));
                    }
                    break;
                }
                // A named statement (the unnamed one went above): the client's first makes its NamedStatements.
                Parse parse = Parse.decode(frame.body());
                track(SqlClassifier.classify(parse.sql()));
                NamedStatements named = statements();
                if (!named.isEnabled()) {
                    track(List.of(new SessionEffect.Pin(PinReason.NAMED_STATEMENT, parse.name())));
                }
                if (named.sendParse(server, parse, frame)) {
                    sentInstead();
                    return;
                }
            }
            case MessageType.Frontend.BIND -> {
                inBatch = true;
                if (statements != null && statements.sendBind(server, frame)) {
                    sentInstead();
                    return;
                }
            }
            case MessageType.Frontend.DESCRIBE -> {
                inBatch = true;
                if (statements != null && statements.sendDescribe(server, frame)) {
                    sentInstead();
                    return;
                }
            }
            case MessageType.Frontend.CLOSE -> {
                inBatch = true;
                Close close = Close.decode(frame.body());
                if (close.kind() == TargetKind.STATEMENT) {
                    NamedStatements named = statements();
                    if (!named.isEnabled()) {
                        track(List.of(new SessionEffect.Unpin(PinReason.NAMED_STATEMENT, close.name())));
                    }
                    if (named.sendClose(close, frame)) {
                        sentInstead();
                        return;
                    }
                }
            }
            case MessageType.Frontend.FUNCTION_CALL -> {
                startQueryClock();
                outstanding++;
            }
            case MessageType.Frontend.SYNC -> {
                startQueryClock();
                outstanding++;
                inBatch = false;
            }
            case MessageType.Frontend.EXECUTE, MessageType.Frontend.FLUSH -> inBatch = true;
            default -> {}
        }
        if (!replies.clientRequest(type)
                && (type == MessageType.Frontend.QUERY || type == MessageType.Frontend.FUNCTION_CALL)) {
            // PostgreSQL discards it while it skips to the batch's Sync: no ReadyForQuery will answer it.
            outstanding--;
        }
        metrics.requestSent();
        server.write(frame);
        wroteToServer = true;
    }

    /** A request was handled by {@link NamedStatements}, which wrote what replaces it. */
    private void sentInstead() {
        metrics.requestSent();
        wroteToServer = true;
    }

    /** Records what a statement does to session state; logs each new reason the client is pinned. */
    private void track(List<SessionEffect> effects) {
        if (effects.isEmpty()) {
            return;
        }
        for (SessionEffect effect : effects) {
            if (effect instanceof SessionEffect.DiscardAll
                    || effect instanceof SessionEffect.UnpinAll all && all.reason() == PinReason.SQL_PREPARE) {
                // DISCARD ALL and DEALLOCATE ALL drop protocol-level statements too, pgmux's included.
                statements().discardAll(server);
            }
        }
        for (PinReason reason : session.apply(effects)) {
            pool.metrics().clientPinned(reason);
            log.info(
                    "client {} pinned to server {} by session state: {} (pool {})",
                    name(),
                    server.name(),
                    reason.label(),
                    pool.key());
        }
    }

    private void acquire() {
        metrics.waitStarted();
        waitSinceNanos = System.nanoTime();
        requestMillis = System.currentTimeMillis();
        waiting = true;
        pool.acquire(this);
        if (!waiting) {
            return; // answered at once
        }
        // No server at once: the client waits. pgmux goes on reading (a Terminate, or the client going away, is seen
        // at once) and holds what comes, up to MAX_HELD_BYTES; turning reading off and on for every wait would cost
        // two system calls per transaction whenever clients outnumber servers.
        if (phase != Phase.LOGGING_IN) {
            phase = Phase.WAITING;
            metrics.state(ClientState.WAITING);
        }
        Duration timeout = pool.settings().queryWaitTimeout();
        if (!timeout.isZero()) {
            // A Deadline, not a timer per wait: with clients outnumbering servers nearly every transaction waits.
            waitDeadline().at(System.nanoTime() + timeout.toNanos());
        }
    }

    private Deadline waitDeadline() {
        if (waitDeadline == null) {
            waitDeadline = new Deadline(channel.eventLoop(), this::onWaitTimeout);
        }
        return waitDeadline;
    }

    private void onWaitTimeout() {
        if (waiting && pool.cancelWait(this)) {
            refused(new PgmuxException(
                    SqlState.PROTOCOL_VIOLATION,
                    "query_wait_timeout: no server connection available for pool %s within %s",
                    pool.key(),
                    DurationFormat.of(pool.settings().queryWaitTimeout())));
        }
    }

    /** The pool's answer to {@link #acquire}, on this client's loop. */
    @Override
    public void granted(ServerConnection acquired) {
        if (log.isTraceEnabled()) {
            log.trace("{} acquired {} ({})", name(), acquired, phase);
        }
        if (!endWait()) {
            pool.release(acquired, null);
            return;
        }
        if (phase == Phase.LOGGING_IN) {
            pool.release(acquired, null);
            finishLogin();
            channel.config().setAutoRead(true);
            if (pending != null) {
                List<Frame> early = List.copyOf(pending);
                pending.clear();
                early.forEach(this::onRequestFrame);
            }
            return;
        }
        acquired.attach(this);
        if (!acquired.isUsable()) {
            // It died between the pool's check and the hand-over: try again.
            acquired.detach();
            pool.release(acquired, CloseReason.SERVER_ERROR);
            acquire();
            return;
        }
        server = acquired;
        phase = Phase.ACTIVE;
        metrics.state(ClientState.ACTIVE);
        outstanding = 0;
        inBatch = false;
        failedSinceReady = false;
        status = TransactionStatus.IDLE;
        String sync = session.syncCommand(acquired.settings());
        if (sync != null) {
            // Before the client's first message: its settings, not the last client's.
            acquired.write(new Query(sync));
            replies.ownRequest(MessageType.Frontend.QUERY, ServerReplies.Purpose.SYNC_SETTINGS, null);
            wroteToServer = true;
        }
        while (pending != null && !pending.isEmpty()) {
            sendToServer(pending.poll());
        }
        onReadComplete();
        channel.config().setAutoRead(true);
    }

    /** The pool's answer to {@link #acquire} when there is no server for this client, on this client's loop. */
    @Override
    public void refused(PgmuxException error) {
        if (log.isTraceEnabled()) {
            log.trace("{} got no server: {} ({})", name(), error.getMessage(), phase);
        }
        if (!endWait()) {
            return;
        }
        if (phase == Phase.LOGGING_IN) {
            fatal(error.sqlState(), error.getMessage());
            return;
        }
        log.info("client {} got no server from pool {}: {}", name(), pool.key(), error.getMessage());
        failPending(error);
        phase = Phase.IDLE;
        metrics.state(ClientState.IDLE);
        becameQuiet();
        channel.config().setAutoRead(true);
    }

    /** Whether the answer to a wait is still wanted: the client is neither gone nor answered already. */
    private boolean endWait() {
        if (!waiting) {
            return false;
        }
        waiting = false;
        if (waitDeadline != null) {
            waitDeadline.disarm();
        }
        if (phase == Phase.CLOSED) {
            return false;
        }
        metrics.waitEnded();
        return true;
    }

    /** Answers queued messages with {@code error}, as PostgreSQL would answer a failed batch. */
    private void failPending(PgmuxException error) {
        boolean errorSent = false;
        while (pending != null && !pending.isEmpty()) {
            Frame frame = pending.poll();
            byte type = frame.type();
            frame.release();
            if (!errorSent) {
                writeError(error);
                errorSent = true;
            }
            if (type == MessageType.Frontend.QUERY
                    || type == MessageType.Frontend.SYNC
                    || type == MessageType.Frontend.FUNCTION_CALL) {
                write(ReadyForQuery.IDLE);
                errorSent = false;
            }
        }
        skipUntilSync = errorSent;
        status = TransactionStatus.IDLE;
        channel.flush();
    }

    // ---- server events (ServerListener) --------------------------------------------------------

    @Override
    public void onServerFrames(ServerConnection from, List<Frame> frames) {
        if (from != server || phase != Phase.ACTIVE) {
            frames.forEach(Frame::release);
            return;
        }
        boolean wrote = false;
        for (int f = 0, n = frames.size(); f < n; f++) { // indexed: no iterator per burst
            Frame frame = frames.get(f);
            if (log.isTraceEnabled()) {
                log.trace("{} <- {} {}", name(), from.name(), MessageType.describe(frame.type()));
            }
            byte type = frame.type();
            ServerReplies.Owed owed = replies.head();
            if (owed != null
                    && owed.purpose() != ServerReplies.Purpose.CLIENT
                    && type != MessageType.Backend.NOTIFICATION_RESPONSE) {
                wrote |= onOwnReply(from, frame, owed);
                replies.advance(type);
                continue;
            }
            if (type == MessageType.Backend.ERROR_RESPONSE && owed != null && owed.prepared() != null) {
                wroteToServer |= statements().onError(from, frame, owed);
                if (retry.tryRetry(frame, owed)) {
                    frame.release();
                    replies.advance(type);
                    continue;
                }
            }
            if (retry.isRetrying()) {
                if (type != MessageType.Backend.READY_FOR_QUERY || retry.canReplay()) {
                    // The rest of the failed batch's replies, up to its ReadyForQuery: the client never sees them.
                    frame.release();
                    replies.advance(type);
                    if (type == MessageType.Backend.READY_FOR_QUERY) {
                        outstanding = Math.max(0, outstanding - 1);
                        inBatch = false;
                        closeStale(from);
                        replayStaleBatch(from);
                    }
                    continue;
                }
                // Not retryable after all (no Describe): the client gets the error, then this ReadyForQuery.
                Frame error = retry.giveUp();
                failedSinceReady = true;
                metrics.toClient(error, true);
                channel.write(error.content(), channel.voidPromise());
                wrote = true;
            }
            switch (type) {
                case MessageType.Backend.READY_FOR_QUERY -> {
                    status = TransactionStatus.of(
                            frame.content().getByte(frame.content().readerIndex() + Frame.HEADER_LENGTH));
                    if (outstanding > 0) {
                        outstanding--;
                    }
                    onRequestAnswered();
                    if (status != TransactionStatus.IDLE && mode == PoolMode.STATEMENT) {
                        refuseTransaction(from, frame);
                        wrote = true;
                        replies.advance(type);
                        continue;
                    }
                    if (status == TransactionStatus.IDLE && session.commit(failedSinceReady)) {
                        forgetAppliedSettings(from);
                    }
                    failedSinceReady = false;
                }
                case MessageType.Backend.PARAMETER_STATUS -> {
                    ParameterStatus changed = ParameterStatus.decode(frame.body());
                    from.settings().put(changed.name(), changed.value());
                    session.onParameterStatus(changed.name(), changed.value());
                }
                case MessageType.Backend.ERROR_RESPONSE -> {
                    failedSinceReady = true;
                    if (queryCanceled) {
                        frame = rewordQueryTimeout(frame);
                    }
                }
                default -> {}
            }
            metrics.toClient(frame, outstanding > 0 || inBatch);
            retry.onRelayed();
            if (type == MessageType.Backend.READY_FOR_QUERY) {
                retry.onBatchEnd();
                wroteToServer |= closeStale(from);
            }
            channel.write(frame.content(), channel.voidPromise());
            wrote = true;
            replies.advance(type);
        }
        metrics.countRelayedBytes();
        if (wroteToServer) {
            // pgmux's own requests made while handling these replies (closing stale statements).
            wroteToServer = false;
            from.flush();
        }
        if (wrote || wroteToClient) {
            wroteToClient = false;
            channel.flush();
        }
        if (status != TransactionStatus.IDLE || outstanding != 0 || inBatch || !replies.isEmpty()) {
            if (outstanding == 0 && !inBatch && replies.isEmpty()) {
                becameQuiet(); // idle in a transaction
            }
            if (!channel.isWritable()) {
                // The client is not keeping up (a big result): stop reading from the server until it is.
                from.channel().config().setAutoRead(false);
            }
            return;
        }
        if (session.needsRecheck()) {
            from.write(new Query(SessionState.recheckQuery()));
            from.flush();
            replies.ownRequest(MessageType.Frontend.QUERY, ServerReplies.Purpose.RECHECK, null);
            return;
        }
        if (draining) {
            // pgmux is stopping and this client's transaction is done: it goes now.
            shutdown();
            return;
        }
        if (releasesBetweenTransactions()) {
            releaseServer(null);
        } else if (!channel.isWritable()) {
            // The client is not keeping up (a big result): stop reading from the server until it is.
            from.channel().config().setAutoRead(false);
        }
        becameQuiet();
    }

    /**
     * A reply to a request pgmux sent itself: read what matters, relay nothing but the errors of a
     * Parse made for the client. Returns true when something was written to the client.
     */
    private boolean onOwnReply(ServerConnection from, Frame frame, ServerReplies.Owed owed) {
        try {
            switch (frame.type()) {
                case MessageType.Backend.PARAMETER_STATUS -> {
                    ParameterStatus changed = ParameterStatus.decode(frame.body());
                    from.settings().put(changed.name(), changed.value());
                    // The server's spelling of the value ("ISO, MDY" for "ISO") is what it reports from now on.
                    session.onParameterStatus(changed.name(), changed.value());
                }
                case MessageType.Backend.DATA_ROW -> {
                    if (owed.purpose() == ServerReplies.Purpose.RECHECK) {
                        DataRow row = DataRow.decode(frame.body());
                        session.onRecheck(
                                Long.parseLong(row.values().get(0)),
                                Long.parseLong(row.values().get(1)));
                    }
                }
                case MessageType.Backend.ERROR_RESPONSE -> {
                    if (owed.purpose() == ServerReplies.Purpose.PREPARE) {
                        // The client's statement does not prepare on this server: its request fails.
                        from.statements().remove(owed.prepared());
                        failedSinceReady = true;
                        metrics.toClient(frame, true);
                        channel.write(frame.retain().content(), channel.voidPromise());
                        return true;
                    }
                    ErrorResponse error = ErrorResponse.decode(frame.body());
                    log.warn(
                            "client {}: pgmux's {} request on server {} failed: {} (SQLSTATE {})",
                            name(),
                            owed.purpose(),
                            from.name(),
                            error.message(),
                            error.sqlState());
                }
                default -> {}
            }
            return false;
        } finally {
            frame.release();
        }
    }

    /**
     * Statement mode: the client opened a transaction block. It is rolled back on the server and
     * the client gets an error in place of the ReadyForQuery that would have said "in transaction".
     */
    private void refuseTransaction(ServerConnection from, Frame readyForQuery) {
        readyForQuery.release();
        PgmuxException error = new PgmuxException(
                SqlState.FEATURE_NOT_SUPPORTED,
                "transaction blocks are not allowed in statement pooling mode (pool.mode = statement)");
        writeError(error);
        write(ReadyForQuery.IDLE);
        from.write(new Query("ROLLBACK"));
        from.flush();
        replies.ownRequest(MessageType.Frontend.QUERY, ServerReplies.Purpose.ROLLBACK, null);
        status = TransactionStatus.IDLE;
        failedSinceReady = false;
    }

    /**
     * The client's named statements, made at the first one: most clients never name a statement, and an idle client
     * then keeps no map for them.
     */
    private NamedStatements statements() {
        if (statements == null) {
            statements = new NamedStatements(replies, () -> pool.settings().maxPreparedStatements());
        }
        return statements;
    }

    /** Closes statements evicted from {@code from} since its last ReadyForQuery; true when it wrote. */
    private boolean closeStale(ServerConnection from) {
        return statements != null && statements.closeStale(from);
    }

    /** A request PostgreSQL skipped after an error. */
    @Override
    public void onSkipped(ServerReplies.Owed owed) {
        statements().onSkipped(server, owed);
    }

    /** Sends a reply pgmux made for a request it answered itself (ParseComplete, CloseComplete). */
    @Override
    public void writeLocalReply(Message reply) {
        retry.onRelayed();
        write(reply);
        wroteToClient = true;
    }

    /** Sends a batch again after its statement went stale (see {@link StaleStatementRetry}). */
    private void replayStaleBatch(ServerConnection from) {
        List<Frame> again = retry.takeReplay();
        log.info(
                "client {}: a statement on server {} changed result type after DDL; re-preparing and retrying",
                name(),
                from.name());
        for (Frame frame : again) {
            sendToServer(frame);
        }
        from.flush();
        wroteToServer = false;
    }

    /** RESET ALL or DISCARD ALL ran: the unreported settings pgmux applied on this server are gone. */
    private void forgetAppliedSettings(ServerConnection from) {
        from.settings().retainOnly(from.parameters().keySet());
    }

    @Override
    public void onServerLost(ServerConnection from, String cause) {
        if (from != server) {
            return;
        }
        replies.clear();
        retry.discard();
        server = null;
        phase = Phase.IDLE;
        metrics.state(ClientState.IDLE);
        metrics.serverLost();
        channel.config().setAutoRead(true);
        log.warn("client {} lost server {}: {}", name(), from.name(), cause);
        reportServerGone(new PgmuxException(
                SqlState.CONNECTION_FAILURE, "server connection lost: %s (pool %s)", cause, pool.key()));
    }

    /**
     * The client's server is gone mid-request or mid-transaction: the client gets {@code error} now when it waits for
     * an answer, or at its next message when it sits idle in the transaction.
     */
    private void reportServerGone(PgmuxException error) {
        if (queryDeadline != null) {
            queryDeadline.disarm();
        }
        queryCanceled = false;
        if (outstanding > 0) {
            writeError(error);
            for (int i = 0; i < outstanding; i++) {
                write(ReadyForQuery.IDLE);
            }
            channel.flush();
        } else if (inBatch) {
            writeError(error);
            skipUntilSync = true;
            channel.flush();
        } else if (status != TransactionStatus.IDLE) {
            pendingError = error;
        }
        outstanding = 0;
        inBatch = false;
        status = TransactionStatus.IDLE;
        becameQuiet();
    }

    @Override
    public void onServerWritable(ServerConnection from) {
        if (from == server && phase == Phase.ACTIVE) {
            channel.config().setAutoRead(true);
        }
    }

    /** A CancelRequest with this client's key arrived; safe from any thread. */
    void requestCancel() {
        channel.eventLoop().execute(() -> {
            ServerConnection current = server;
            if (current != null && (outstanding > 0 || inBatch)) {
                cancelOn(current);
            }
        });
    }

    /**
     * Asks PostgreSQL to cancel what {@code target} runs. Until PostgreSQL has answered (closed the cancel connection),
     * the server does not go back to its pool: a cancel handled late must not land on the next client's query.
     */
    private void cancelOn(ServerConnection target) {
        target.backendKey().ifPresent(key -> {
            target.cancelSent();
            context.connector()
                    .cancel(channel.eventLoop(), target.remoteAddress(), key)
                    .addListener(answered -> target.cancelAnswered());
        });
    }

    private boolean releasesBetweenTransactions() {
        return mode != PoolMode.SESSION && !session.isPinned();
    }

    private void releaseServer(CloseReason reason) {
        ServerConnection released = server;
        server = null;
        if (phase != Phase.CLOSED) {
            phase = Phase.IDLE;
            metrics.state(ClientState.IDLE);
        }
        released.detach();
        released.channel().config().setAutoRead(true);
        Pool from = pool;
        if (reason != null) {
            from.release(released, reason);
        } else if (!released.hasCancelsInFlight()) {
            from.releaseUnlessLost(released, null); // the usual case: no task object per transaction
        } else {
            released.afterCancels(() -> from.releaseUnlessLost(released, null));
        }
    }

    // ---- client-idle-timeout, idle-transaction-timeout, query-timeout ---------------------------

    /**
     * The client has its answer and nothing is under way: from now, client-idle-timeout runs, or
     * idle-transaction-timeout when its server is in a transaction.
     */
    private void becameQuiet() {
        Duration timeout = isIdleInTransaction()
                ? pool.settings().idleTransactionTimeout()
                : pool.settings().clientIdleTimeout();
        if (timeout.isZero()) {
            if (quietDeadline != null) {
                quietDeadline.disarm();
            }
        } else {
            quietDeadline().at(System.nanoTime() + timeout.toNanos());
        }
    }

    private void hold(Frame frame) {
        if (pending == null) {
            pending = new ArrayDeque<>(4);
        }
        if (pending.isEmpty()) {
            heldBytes = 0;
        }
        pending.add(frame);
        heldBytes += frame.wireLength();
        if (heldBytes > MAX_HELD_BYTES && channel.config().isAutoRead()) {
            // A client that pipelines a lot while it waits for a server: read no more until it has one.
            channel.config().setAutoRead(false);
        }
    }

    /** Created when first armed: most clients never set one. */
    private Deadline quietDeadline() {
        if (quietDeadline == null) {
            quietDeadline = new Deadline(channel.eventLoop(), this::onQuietTimeout);
        }
        return quietDeadline;
    }

    private Deadline queryDeadline() {
        if (queryDeadline == null) {
            queryDeadline = new Deadline(channel.eventLoop(), this::onQueryTimeout);
        }
        return queryDeadline;
    }

    private boolean isIdleInTransaction() {
        return server != null && status != TransactionStatus.IDLE;
    }

    private void onQuietTimeout() {
        if (phase == Phase.CLOSED || phase == Phase.WAITING) {
            return;
        }
        if (isIdleInTransaction()) {
            Duration timeout = pool.settings().idleTransactionTimeout();
            fatal(
                    SqlState.IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
                    "idle_transaction_timeout: terminating connection idle in a transaction for "
                            + DurationFormat.of(timeout) + " (idle-transaction-timeout = " + DurationFormat.of(timeout)
                            + "); the transaction is rolled back");
        } else {
            Duration timeout = pool.settings().clientIdleTimeout();
            fatal(
                    SqlState.PROTOCOL_VIOLATION,
                    "client_idle_timeout: terminating connection idle for " + DurationFormat.of(timeout)
                            + " (client-idle-timeout = " + DurationFormat.of(timeout) + ")");
        }
    }

    /** A request goes to the server; when nothing else was running, query-timeout starts counting. */
    private void startQueryClock() {
        if (outstanding == 0 && !queryCanceled) {
            Duration timeout = pool.settings().queryTimeout();
            if (!timeout.isZero()) {
                queryDeadline().at(System.nanoTime() + timeout.toNanos());
            }
        }
    }

    /** A ReadyForQuery answered a request: a cancel sent by query-timeout is done with; the next request's clock runs. */
    private void onRequestAnswered() {
        queryCanceled = false;
        if (outstanding == 0) {
            if (queryDeadline != null) {
                queryDeadline.disarm();
            }
        } else {
            Duration timeout = pool.settings().queryTimeout();
            if (!timeout.isZero()) {
                queryDeadline().at(System.nanoTime() + timeout.toNanos());
            }
        }
    }

    /**
     * query-timeout passed: PostgreSQL is asked to cancel the request, which then fails with 57014 and the client stays
     * connected. If no ReadyForQuery comes within the grace period after that, the server is closed instead.
     */
    private void onQueryTimeout() {
        ServerConnection current = server;
        if (current == null || phase != Phase.ACTIVE || outstanding == 0) {
            return;
        }
        Duration timeout = pool.settings().queryTimeout();
        if (!queryCanceled) {
            queryCanceled = true;
            log.info(
                    "client {}: request on server {} ran longer than query-timeout = {}; canceling it",
                    name(),
                    current.name(),
                    DurationFormat.of(timeout));
            cancelOn(current);
            queryDeadline().at(System.nanoTime() + cancelGrace(timeout).toNanos());
            return;
        }
        log.warn(
                "client {}: server {} did not honour the query-timeout cancel within {}; closing it",
                name(),
                current.name(),
                DurationFormat.of(cancelGrace(timeout)));
        replies.clear();
        retry.discard();
        releaseServer(CloseReason.DIRTY);
        reportServerGone(new PgmuxException(
                SqlState.QUERY_CANCELED,
                "canceling statement due to query_timeout (query-timeout = %s); the server did not stop within %s"
                        + " and its connection was closed",
                DurationFormat.of(timeout),
                DurationFormat.of(cancelGrace(timeout))));
        channel.config().setAutoRead(true);
    }

    /** How long a canceled request may take to stop: as long as query-timeout, at least 1s and at most 10s. */
    static Duration cancelGrace(Duration queryTimeout) {
        Duration atLeast = queryTimeout.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : queryTimeout;
        return atLeast.compareTo(Duration.ofSeconds(10)) > 0 ? Duration.ofSeconds(10) : atLeast;
    }

    /** PostgreSQL's "canceling statement due to user request", when pgmux sent the cancel, says query_timeout. */
    private Frame rewordQueryTimeout(Frame frame) {
        ErrorResponse error = ErrorResponse.decode(frame.body());
        if (!error.sqlState().equals(SqlState.QUERY_CANCELED.code())) {
            return frame;
        }
        Map<Character, String> fields = new LinkedHashMap<>(error.fields());
        fields.put(
                ErrorResponse.MESSAGE,
                "canceling statement due to query_timeout (query-timeout = "
                        + DurationFormat.of(pool.settings().queryTimeout()) + ")");
        frame.release();
        return new Frame(new ErrorResponse(fields).toByteBuf(channel.alloc()));
    }

    // ---- ending -------------------------------------------------------------------------------

    /**
     * pgmux is stopping gracefully: a client between transactions is closed with 57P01 now, one in
     * a transaction (or waiting for a server) as soon as its transaction ends.
     */
    void drain() {
        draining = true;
        if (phase != Phase.ACTIVE && phase != Phase.WAITING) {
            shutdown();
        }
    }

    /** pgmux is stopping: the client is told why (57P01) and closed. */
    void shutdown() {
        if (phase != Phase.CLOSED) {
            fatal(SqlState.ADMIN_SHUTDOWN, "terminating connection because pgmux is shutting down");
        }
    }

    /** KILL: a client of {@code database} (not of the admin console) is closed at once, in a transaction or not. */
    void kill(String database) {
        if (admin == null && startup != null && database.equals(startup.database()) && phase != Phase.CLOSED) {
            fatal(SqlState.PROTOCOL_VIOLATION, "database killed");
        }
    }

    private void terminate() {
        if (phase == Phase.CLOSED) {
            return;
        }
        depart(Departure.TERMINATE);
        channel.close();
    }

    private void cleanUp() {
        context.registry().directory().removeClient(this);
        retry.discard();
        if (admin != null) {
            admin.close();
        }
        if (pending != null) {
            pending.forEach(Frame::release);
            pending.clear();
        }
        if (waitDeadline != null) {
            waitDeadline.cancel();
        }
        if (loginTimer != null) {
            loginTimer.cancel(false);
            loginTimer = null;
        }
        if (quietDeadline != null) {
            quietDeadline.cancel();
        }
        if (queryDeadline != null) {
            queryDeadline.cancel();
        }
        if (waiting && pool.cancelWait(this)) {
            waiting = false; // else a server is on its way, and granted gives it back
        }
        if (server != null) {
            boolean quiet = outstanding == 0 && !inBatch && replies.isEmpty() && status == TransactionStatus.IDLE;
            if (!quiet) {
                releaseServer(CloseReason.DIRTY);
            } else if (releasesBetweenTransactions()) {
                releaseServer(null);
            } else {
                resetAndRelease();
            }
        }
        if (counted) {
            counted = false;
            context.registry().removeClient();
        }
        if (cancelKey != null) {
            context.cancelRouter().unregister(cancelKey, this);
        }
    }

    /**
     * The client left a server with session state (pinned, or session mode): DISCARD ALL (or, in
     * session mode, server-reset-query) makes it clean before it goes back to the pool.
     */
    private void resetAndRelease() {
        ServerConnection left = server;
        Pool leftPool = pool;
        server = null;
        left.detach();
        left.channel().config().setAutoRead(true);
        String resetQuery = session != null && session.isPinned()
                ? "DISCARD ALL"
                : pool.settings().serverResetQuery();
        left.afterCancels(() -> {
            if (resetQuery.isBlank()) {
                leftPool.releaseUnlessLost(left, null);
            } else {
                left.runWhileIdle(
                        resetQuery, true, ok -> leftPool.releaseUnlessLost(left, ok ? null : CloseReason.DIRTY));
            }
        });
    }

    private void fatal(SqlState sqlState, String message) {
        if (phase == Phase.CLOSED || !channel.isActive()) {
            channel.close();
            return;
        }
        ByteBuf error = ErrorResponse.of(Severity.FATAL, sqlState, message).toByteBuf(channel.alloc());
        metrics.sent(error.readableBytes());
        metrics.error(sqlState);
        channel.writeAndFlush(error).addListener(ChannelFutureListener.CLOSE);
        Phase was = phase;
        phase = Phase.CLOSED;
        metrics.state(null);
        cleanUp();
        log.info(
                "client {} {}: user={} database={} error: {} (SQLSTATE {})",
                name(),
                was.compareTo(Phase.IDLE) >= 0 ? "closed" : "refused",
                startup == null ? null : startup.user(),
                startup == null ? null : startup.database(),
                message,
                sqlState.code());
    }

    private void writeError(PgmuxException error) {
        log.info(
                "client {} error: {} (SQLSTATE {})",
                name(),
                error.getMessage(),
                error.sqlState().code());
        metrics.error(error.sqlState());
        write(ErrorResponse.of(Severity.ERROR, error.sqlState(), error.getMessage()));
    }

    private void write(Message message) {
        ByteBuf out = message.toByteBuf(channel.alloc());
        metrics.sent(out.readableBytes());
        channel.write(out, channel.voidPromise());
    }

    private void writeAndFlush(Message message) {
        ByteBuf out = message.toByteBuf(channel.alloc());
        metrics.sent(out.readableBytes());
        channel.writeAndFlush(out, channel.voidPromise());
    }

    private static PgmuxException asPgmux(Throwable cause) {
        return cause instanceof PgmuxException p
                ? p
                : new PgmuxException(SqlState.CONNECTION_FAILURE, "server connection failed: %s", cause);
    }

    /** This client as SHOW CLIENTS shows it now; on this client's loop (the console asks through the directory). */
    @Override
    public ClientSnapshot snapshot() {
        if (phase == Phase.CLOSED) {
            return null;
        }
        String state =
                switch (phase) {
                    case STARTUP, AUTHENTICATING, LOGGING_IN -> "login";
                    case IDLE -> admin != null ? "active" : "idle";
                    case WAITING -> "waiting";
                    case ACTIVE -> "active";
                    case CLOSED -> "closed";
                };
        String applicationName = session != null
                ? session.applicationName()
                : startup != null ? startup.parameters().get("application_name") : null;
        return new ClientSnapshot(
                name(),
                startup == null ? null : startup.user(),
                startup == null ? null : startup.database(),
                state,
                inet(channel.remoteAddress()),
                inet(channel.localAddress()),
                connectMillis,
                requestMillis,
                phase == Phase.WAITING ? waitSinceNanos : 0,
                server == null ? null : server.name(),
                tlsDescription,
                applicationName,
                statements == null ? 0 : statements.size(),
                session == null ? "" : session.describePins());
    }

    private static InetSocketAddress inet(SocketAddress address) {
        return address instanceof InetSocketAddress a ? a : null;
    }

    @Override
    public String toString() {
        return name();
    }
}
