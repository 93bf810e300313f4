package io.pgmux.metrics;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.pgmux.Transport;
import io.pgmux.config.MetricsConfig;
import io.pgmux.pool.PoolRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP listener of {@code metrics.host}:{@code metrics.port}: {@code GET /metrics} (Prometheus text format),
 * {@code GET /health} (200 while the client listener is up) and {@code GET /ready} (200 when a configured database
 * is reachable, see {@link Readiness}); 404 for other paths, 405 for other methods. It runs on pgmux's event loops;
 * a scrape of a registry this size takes well under a millisecond, so it runs inline.
 */
public final class HttpEndpoints implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpEndpoints.class);
    private static final int MAX_REQUEST_BYTES = 16 * 1024;
    /** Scrapers keep connections alive between scrapes; one silent this long is closed. */
    private static final int IDLE_SECONDS = 120;

    private static final String TEXT = "text/plain; charset=utf-8";

    private final Channel listener;
    /** The scrapers' connections, closed with the listener: a reload that moves the endpoint leaves none behind. */
    private final ChannelGroup connections;

    private HttpEndpoints(Channel listener, ChannelGroup connections) {
        this.listener = listener;
        this.connections = connections;
    }

    /**
     * Binds and serves until {@link #close()}.
     *
     * @param listening whether pgmux's client listener is up, for {@code /health}
     * @throws IllegalStateException when the address cannot be bound, naming {@code metrics.port}
     */
    public static HttpEndpoints start(
            MetricsConfig config,
            EventLoopGroup acceptors,
            EventLoopGroup workers,
            Transport transport,
            PgmuxMetrics metrics,
            PoolRegistry registry,
            BooleanSupplier listening)
            throws InterruptedException {
        Readiness readiness = new Readiness(registry, transport, System::nanoTime);
        ChannelGroup connections = new DefaultChannelGroup("metrics-connections", GlobalEventExecutor.INSTANCE);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ch.pipeline()
                                .addLast("idle", new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS))
                                .addLast("http", new HttpServerCodec())
                                .addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                .addLast("endpoints", new EndpointHandler(metrics, readiness, listening));
                    }
                });
        var bind = bootstrap.bind(config.host(), config.port()).await();
        if (!bind.isSuccess()) {
            throw new IllegalStateException(
                    "metrics.port: cannot listen on " + config.host() + ":" + config.port() + ": " + bind.cause(),
                    bind.cause());
        }
        HttpEndpoints endpoints = new HttpEndpoints(bind.channel(), connections);
        InetSocketAddress address = endpoints.address();
        log.info("metrics on http://{}:{}/metrics (also /health, /ready)", address.getHostString(), address.getPort());
        return endpoints;
    }

    /** The address the listener is bound to (the real port when 0 was asked). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Stops listening and closes the connections still open. */
    @Override
    public void close() {
        listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** One HTTP connection: answers each aggregated request, keeping the connection when the client asks to. */
    private static final class EndpointHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final PgmuxMetrics metrics;
        private final Readiness readiness;
        private final BooleanSupplier listening;

        EndpointHandler(PgmuxMetrics metrics, Readiness readiness, BooleanSupplier listening) {
            this.metrics = metrics;
            this.readiness = readiness;
            this.listening = listening;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.decoderResult().isSuccess()) {
                respond(ctx, false, text(ctx, HttpResponseStatus.BAD_REQUEST, "bad request"));
                return;
            }
            String path = new QueryStringDecoder(request.uri()).path();
            if (!path.equals("/metrics") && !path.equals("/health") && !path.equals("/ready")) {
                respond(ctx, keepAlive, text(ctx, HttpResponseStatus.NOT_FOUND, "not found: " + path));
                return;
            }
            if (!request.method().equals(HttpMethod.GET)) {
                FullHttpResponse response =
                        text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed: " + request.method());
                response.headers().set(HttpHeaderNames.ALLOW, HttpMethod.GET.name());
                respond(ctx, keepAlive, response);
                return;
            }
            switch (path) {
                case "/metrics" -> respond(ctx, keepAlive, scrape(ctx));
                case "/health" ->
                    respond(
                            ctx,
                            keepAlive,
                            listening.getAsBoolean()
                                    ? text(ctx, HttpResponseStatus.OK, "ok")
                                    : text(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "not listening"));
                default -> ready(ctx, keepAlive);
            }
        }

        private void ready(ChannelHandlerContext ctx, boolean keepAlive) {
            // Answers must leave in request order: read no further request until this one is answered.
            ctx.channel().config().setAutoRead(false);
            readiness.check(ctx.channel().eventLoop()).addListener(f -> {
                boolean ready = f.isSuccess() && Boolean.TRUE.equals(f.getNow());
                respond(
                        ctx,
                        keepAlive,
                        ready
                                ? text(ctx, HttpResponseStatus.OK, "ready")
                                : text(
                                        ctx,
                                        HttpResponseStatus.SERVICE_UNAVAILABLE,
                                        "no configured database reachable"));
                ctx.channel().config().setAutoRead(true);
            });
        }

        private FullHttpResponse scrape(ChannelHandlerContext ctx) {
            ByteBuf body = ctx.alloc().buffer(16 * 1024);
            try (ByteBufOutputStream out = new ByteBufOutputStream(body)) {
                metrics.scrape(out);
            } catch (IOException | RuntimeException e) {
                body.release();
                log.error("metrics scrape failed", e);
                return text(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "scrape failed: " + e);
            }
            return response(HttpResponseStatus.OK, PgmuxMetrics.CONTENT_TYPE, body);
        }

        private static FullHttpResponse text(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
            return response(status, TEXT, ByteBufUtil.writeUtf8(ctx.alloc(), body + "\n"));
        }

        private static FullHttpResponse response(HttpResponseStatus status, String contentType, ByteBuf body) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            return response;
        }

        private static void respond(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse response) {
            if (keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(response, ctx.voidPromise());
            } else {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof IdleStateEvent) {
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(event);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("metrics connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
