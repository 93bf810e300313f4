package io.pgmux.server;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgmux.Transport;
import io.pgmux.config.DurationFormat;
import io.pgmux.directory.SessionDirectory;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.codec.FrameDecoder;
import io.pgmux.protocol.codec.WriteCoalescer;
import io.pgmux.protocol.message.BackendKeyData;
import io.pgmux.protocol.message.CancelRequest;
import io.pgmux.protocol.message.StartupMessage;
import io.pgmux.tls.ServerTlsNegotiator;
import io.pgmux.tls.TlsContexts;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens server connections on a given event loop, negotiates TLS as {@code tls.server.mode} says, and logs them in;
 * also sends CancelRequests, with the same TLS setting. A reload ({@link #reconfigure}) changes the TLS setting and the
 * message size limit for connections opened afterwards.
 */
public final class ServerConnector {
    private static final Logger log = LoggerFactory.getLogger(ServerConnector.class);
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    /** How long a cancel request may take to connect, and then to be answered, before pgmux gives up on it. */
    private static final int CANCEL_TIMEOUT_MILLIS = 5_000;

    private final Transport transport;
    /** What the next connection is built with; one field, so that a connection never mixes two reloads. */
    private volatile Wiring wiring;
    /** Where every connection opened here is listed while its channel is open (SHOW SERVERS). */
    private final SessionDirectory directory;

    public ServerConnector(Transport transport, int maxMessageSize, TlsContexts.ServerSide tls) {
        this(transport, maxMessageSize, tls, new SessionDirectory());
    }

    public ServerConnector(
            Transport transport, int maxMessageSize, TlsContexts.ServerSide tls, SessionDirectory directory) {
        this.transport = transport;
        this.wiring = new Wiring(maxMessageSize, tls);
        this.directory = directory;
    }

    /**
     * The largest message accepted from a server, and whether and how server connections (and cancels) use TLS.
     */
    private record Wiring(int maxMessageSize, TlsContexts.ServerSide tls) {}

    /** Connections and cancels opened from now on use {@code maxMessageSize} and {@code tls}; open ones keep theirs. */
    public void reconfigure(int maxMessageSize, TlsContexts.ServerSide tls) {
        wiring = new Wiring(maxMessageSize, tls);
    }

    /** The directory the connections opened here are listed in. */
    public SessionDirectory directory() {
        return directory;
    }

    /** Where and as whom a pool's servers connect. */
    public record Target(
            String poolName,
            String host,
            int port,
            String database,
            ServerCredentials credentials,
            Map<String, String> startupParameters,
            Duration connectTimeout) {}

    /**
     * Connects and logs in; the future completes on {@code loop} with a ready connection, or fails
     * with a {@link PgmuxException} (08006) naming the server and the cause.
     */
    public Future<ServerConnection> connect(EventLoop loop, Target target, Consumer<ServerConnection> onLost) {
        Promise<ServerConnection> promise = loop.newPromise();
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", target.credentials().user());
        parameters.put("database", target.database());
        parameters.putAll(target.startupParameters());
        StartupMessage startup = new StartupMessage(StartupMessage.PROTOCOL_3_0, parameters);
        long timeoutMillis = target.connectTimeout().toMillis();
        Wiring now = wiring;
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.clientChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .option(
                        ChannelOption.CONNECT_TIMEOUT_MILLIS,
                        timeoutMillis > 0 ? (int) Math.min(timeoutMillis, Integer.MAX_VALUE) : 0)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ServerConnection server = new ServerConnection(
                                target.poolName(),
                                ch,
                                startup,
                                target.credentials(),
                                promise,
                                System.nanoTime(),
                                onLost);
                        directory.addServer(server);
                        ch.closeFuture().addListener(f -> directory.removeServer(server));
                        addTlsNegotiator(ch, now.tls(), target.host(), target.port());
                        ch.pipeline().addLast("coalescer", new WriteCoalescer());
                        ch.pipeline().addLast("frame-decoder", new FrameDecoder(now.maxMessageSize()));
                        ch.pipeline().addLast("server", new ServerHandler(server));
                    }
                });
        ChannelFuture connect = bootstrap.connect(target.host(), target.port());
        connect.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(new PgmuxException(
                        SqlState.CONNECTION_FAILURE,
                        "cannot connect to server %s:%d for pool %s: %s",
                        target.host(),
                        target.port(),
                        target.poolName(),
                        describe(f.cause())));
            }
        });
        if (timeoutMillis > 0) {
            var timer = loop.schedule(
                    () -> {
                        if (!promise.isDone()) {
                            PgmuxException error = new PgmuxException(
                                    SqlState.CONNECTION_FAILURE,
                                    "server_connect_timeout: no login to server %s:%d for pool %s within %s",
                                    target.host(),
                                    target.port(),
                                    target.poolName(),
                                    DurationFormat.of(target.connectTimeout()));
                            promise.tryFailure(error);
                            connect.channel().close();
                        }
                    },
                    timeoutMillis,
                    TimeUnit.MILLISECONDS);
            promise.addListener(f -> timer.cancel(false));
        }
        return promise;
    }

    /**
     * Sends a CancelRequest for {@code key} on a new connection to {@code address}, with the same TLS setting as the
     * logins. The future completes on {@code loop} once PostgreSQL has answered by closing that connection, or the
     * attempt failed or timed out; it never fails.
     */
    public Future<Void> cancel(EventLoop loop, InetSocketAddress address, BackendKeyData key) {
        TlsContexts.ServerSide tls = wiring.tls();
        Promise<Void> answered = loop.newPromise();
        new Bootstrap()
                .group(loop)
                .channel(transport.clientChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CANCEL_TIMEOUT_MILLIS)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // PostgreSQL closes the connection once it has passed the cancel on; don't wait forever.
                        ScheduledFuture<?> timeout =
                                ch.eventLoop().schedule(() -> ch.close(), CANCEL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                        ch.closeFuture().addListener(f -> {
                            timeout.cancel(false);
                            answered.trySuccess(null);
                        });
                        addTlsNegotiator(ch, tls, address.getHostString(), address.getPort());
                        ch.pipeline().addLast("cancel", new CancelSender(address, key));
                    }
                })
                .connect(address)
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        log.warn("cannot send cancel request to {}: {}", address, describe(f.cause()));
                        answered.trySuccess(null);
                    }
                });
        return answered;
    }

    private static void addTlsNegotiator(Channel ch, TlsContexts.ServerSide tls, String host, int port) {
        if (tls.asksForTls()) {
            ch.pipeline().addLast("tls-negotiator", new ServerTlsNegotiator(tls, host, port));
        }
    }

    /** Writes the CancelRequest once the connection is ready (after TLS, when used); PostgreSQL then closes it. */
    private static final class CancelSender extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress address;
        private final BackendKeyData key;

        CancelSender(InetSocketAddress address, BackendKeyData key) {
            this.address = address;
            this.key = key;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ByteBuf out = new CancelRequest(key.processId(), key.secretKey()).toByteBuf(ctx.alloc());
            ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            // PostgreSQL answers a cancel with nothing but closing; anything else is dropped.
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("cannot send cancel request to {}: {}", address, describe(cause));
            ctx.close();
        }
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }
}
