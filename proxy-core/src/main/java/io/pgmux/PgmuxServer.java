package io.pgmux;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.ChannelGroupFuture;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.pgmux.admin.AdminActions;
import io.pgmux.auth.AuthQuery;
import io.pgmux.auth.ClientAuthenticator;
import io.pgmux.auth.UserDirectory;
import io.pgmux.client.CancelRouter;
import io.pgmux.client.ClientContext;
import io.pgmux.client.ClientInitializer;
import io.pgmux.config.ConfigException;
import io.pgmux.config.DurationFormat;
import io.pgmux.config.MetricsConfig;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.metrics.HttpEndpoints;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.pool.Housekeeper;
import io.pgmux.pool.PoolRegistry;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.SqlState;
import io.pgmux.server.ServerConnector;
import io.pgmux.tls.TlsContexts;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running pgmux: owns the event loops, the listener, the pools and their housekeeping, and the metrics with
 * their HTTP endpoints. {@link #start()} binds; {@link #close()} stops everything.
 */
public final class PgmuxServer implements AutoCloseable, AdminActions {
    private static final Logger log = LoggerFactory.getLogger(PgmuxServer.class);

    private volatile PgmuxConfig config;
    private final ConfigSource source;
    private final ClientAuthenticator authenticator;
    private final SecureRandom random = new SecureRandom();
    /** Blocking work off the event loops: reading the configuration on reload. */
    private final ExecutorService maintenance =
            Executors.newSingleThreadExecutor(new DefaultThreadFactory("pgmux-maintenance", true));

    private final Transport transport = Transport.best();
    /**
     * One read-size policy for every client channel (it holds only its bounds; each channel's handle keeps the sizes it
     * learned): Netty's default is a new allocator object per channel, 40 bytes kept by every idle client. Up to 16
     * reads per readiness, as Netty gives a socket channel's own allocator (a bare allocator says 1). With 1, a fast
     * COPY FROM STDIN once made pgmux hold up to 96 MiB: not back-pressure but the decode buffer growing, which
     * FrameDecoder's cumulator now prevents however many reads a readiness gives.
     */
    private static final RecvByteBufAllocator RECEIVE_SIZES = new AdaptiveRecvByteBufAllocator().maxMessagesPerRead(16);

    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final PoolRegistry registry;
    private final ServerConnector connector;
    private final ClientInitializer clientInitializer;
    private final PgmuxMetrics metrics = new PgmuxMetrics();
    private Housekeeper housekeeper;
    private volatile Channel listener;
    /** The metrics endpoint; replaced by a reload that changes {@code metrics}. Guarded by {@code this}. */
    private HttpEndpoints http;

    /** Set by the first {@link #drain}: a second one (SIGTERM during the console's SHUTDOWN) waits for the first. */
    private final AtomicBoolean draining = new AtomicBoolean();
    /** Set by the first {@link #close}: a second one waits for the first to finish. */
    private final AtomicBoolean closed = new AtomicBoolean();

    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    /**
     * A server for {@code config}, reading its TLS files now; its reload re-applies {@code config} as it is.
     *
     * @throws IllegalArgumentException when a TLS file is missing or unusable (see {@link TlsContexts#from})
     */
    public PgmuxServer(PgmuxConfig config) {
        this(config, tlsContexts(config), () -> config);
    }

    /** As {@link #PgmuxServer(PgmuxConfig)}, with a reload that reads {@code source} again. */
    public PgmuxServer(PgmuxConfig config, ConfigSource source) {
        this(config, tlsContexts(config), source);
    }

    /** A server for {@code config} with TLS contexts already built from its {@code tls} block. */
    public PgmuxServer(PgmuxConfig config, TlsContexts tls) {
        this(config, tls, () -> config);
    }

    /**
     * A server started with {@code config} (which {@code source}, read again on every reload, produced) and TLS
     * contexts already built from its {@code tls} block.
     */
    public PgmuxServer(PgmuxConfig config, TlsContexts tls, ConfigSource source) {
        this.config = config;
        this.source = source;
        this.acceptors = transport.newGroup(1, new DefaultThreadFactory("pgmux-accept", true));
        this.workers = transport.newGroup(
                Runtime.getRuntime().availableProcessors(), new DefaultThreadFactory("pgmux-io", true));
        int maxMessageSize = maxMessageSize(config);
        this.connector = new ServerConnector(transport, maxMessageSize, tls.server());
        this.registry = new PoolRegistry(config, connector, System::nanoTime, metrics);
        this.authenticator = new ClientAuthenticator(
                config.auth().type(),
                new UserDirectory(config.auth().users(), random),
                new AuthQuery(registry, connector));
        ClientContext context =
                new ClientContext(registry, authenticator, new CancelRouter(random), connector, metrics, this);
        this.clientInitializer = new ClientInitializer(context, maxMessageSize, tls.client(), clients);
    }

    private static int maxMessageSize(PgmuxConfig config) {
        return (int) Math.min(config.maxMessageSize(), Integer.MAX_VALUE);
    }

    private static TlsContexts tlsContexts(PgmuxConfig config) {
        try {
            return TlsContexts.from(config.tls());
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /**
     * Binds the listener, and the HTTP endpoints when {@code metrics.enabled}; returns the address it listens on (the
     * port is real even when 0 was asked).
     */
    public InetSocketAddress start() throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, config.listen().backlog())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, ServerConnector.WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_SIZES)
                .childHandler(clientInitializer);
        listener = bootstrap
                .bind(config.listen().host(), config.listen().port())
                .sync()
                .channel();
        EventLoop housekeeping = workers.next();
        housekeeper = new Housekeeper(registry, housekeeping, Duration.ofSeconds(1));
        housekeeper.start();
        InetSocketAddress address = (InetSocketAddress) listener.localAddress();
        log.info("pgmux listening on {}:{} ({} transport)", address.getHostString(), address.getPort(), transport);
        metrics.bindEventLoops(workers);
        if (config.metrics().enabled()) {
            synchronized (this) {
                http = startHttp(config.metrics());
            }
        }
        return address;
    }

    /** Binds {@code /metrics}, {@code /health} and {@code /ready}; {@code /health} follows the client listener. */
    private HttpEndpoints startHttp(MetricsConfig settings) throws InterruptedException {
        Channel clients = listener;
        return HttpEndpoints.start(settings, acceptors, workers, transport, metrics, registry, clients::isActive);
    }

    /** pgmux's meters; they count whether or not {@code metrics.enabled} serves them over HTTP. */
    public PgmuxMetrics metrics() {
        return metrics;
    }

    /** Where {@code /metrics}, {@code /health} and {@code /ready} are served; empty when metrics are disabled. */
    public synchronized Optional<InetSocketAddress> metricsAddress() {
        return Optional.ofNullable(http).map(HttpEndpoints::address);
    }

    public PoolRegistry registry() {
        return registry;
    }

    public PgmuxConfig config() {
        return config;
    }

    /** The console's SHUTDOWN: drains within shutdown-timeout, as on SIGTERM. */
    @Override
    public void shutdown() {
        drain(config.shutdownTimeout());
    }

    /**
     * Reloads the configuration (SIGHUP, console RELOAD) on the maintenance thread: see {@link #reloadNow()}. The
     * future fails with a {@link PgmuxException} (SQLSTATE F0000) naming the invalid keys when it was refused.
     */
    @Override
    public CompletableFuture<Void> reload() {
        try {
            return CompletableFuture.runAsync(this::reloadNow, maintenance).whenComplete((done, failure) -> {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                if (cause != null && !(cause instanceof PgmuxException)) {
                    // A refused config has logged why; anything else must not vanish with the future.
                    log.error("reload failed", cause);
                }
            });
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(
                    new PgmuxException(SqlState.ADMIN_SHUTDOWN, "reload refused: pgmux is stopping"));
        }
    }

    /**
     * Reads the configuration again from where it came from (file, environment, -D, auth.file) and the TLS files it
     * names, and applies it: every setting except {@code listen} takes effect. Pools change at once; TLS and
     * {@code max-message-size} apply to connections opened afterwards (open ones keep theirs); a changed
     * {@code metrics} block moves the HTTP endpoint. An invalid configuration, or a TLS file that cannot be used, is
     * refused with one log line naming the keys, and the running one stays in force. {@link #config()} (and SHOW
     * CONFIG) shows what is in force afterwards. Blocks on file I/O and on binding the metrics endpoint: runs on the
     * maintenance thread, never on an event loop.
     */
    private void reloadNow() {
        PgmuxConfig read;
        TlsContexts tls;
        try {
            read = source.load();
            tls = TlsContexts.from(read.tls());
        } catch (ConfigException e) {
            String problems = String.join("; ", e.problems());
            log.warn("reload refused, the running configuration stays in force: {}", problems);
            throw new PgmuxException(SqlState.CONFIG_FILE_ERROR, "reload refused: %s", problems);
        }
        PgmuxConfig previous = config;
        if (!read.listen().equals(previous.listen())) {
            log.warn(
                    "reload: listen changed to {}; it takes a restart, pgmux keeps listening as before", read.listen());
        }
        MetricsConfig metricsInForce = read.metrics().equals(previous.metrics())
                ? previous.metrics()
                : moveMetrics(previous.metrics(), read.metrics());
        PgmuxConfig next = new PgmuxConfig(
                previous.listen(),
                read.admin(),
                metricsInForce,
                read.shutdownTimeout(),
                read.maxMessageSize(),
                read.auth(),
                read.pool(),
                read.databases(),
                read.tls());
        int maxMessageSize = maxMessageSize(next);
        connector.reconfigure(maxMessageSize, tls.server());
        clientInitializer.reconfigure(maxMessageSize, tls.client());
        registry.reconfigure(next, workers.next());
        authenticator.reconfigure(
                next.auth().type(), new UserDirectory(next.auth().users(), random));
        config = next;
        log.info(
                "configuration reloaded: {} database(s), {} user(s); new connections use tls.client.mode = {},"
                        + " tls.server.mode = {}",
                next.databases().size(),
                next.auth().users().size(),
                next.tls().client().mode().configName(),
                next.tls().server().mode().configName());
    }

    /**
     * A reload changed {@code metrics}: stops the endpoint, or starts it, or moves it to the new address (connections
     * to the old one are closed; scrapers reconnect). When the new address cannot be bound, the endpoint stays where it
     * was (bound there again if it had to let go of its port to try) and the log says so. Returns the settings then in
     * force; runs on the maintenance thread.
     */
    private synchronized MetricsConfig moveMetrics(MetricsConfig running, MetricsConfig wanted) {
        if (closed.get() || listener == null) {
            return wanted; // not serving (yet, or any more): start() binds what is configured
        }
        HttpEndpoints serving = http;
        if (!wanted.enabled()) {
            if (serving != null) {
                serving.close();
                http = null;
                log.info("reload: metrics endpoint stopped (metrics.enabled = false)");
            }
            return wanted;
        }
        Binding moved = bind(wanted);
        if (moved.failed()
                && serving != null
                && wanted.port() == serving.address().getPort()) {
            // The new address shares the running endpoint's port (another host): let go of it and try again.
            InetSocketAddress was = serving.address();
            serving.close();
            serving = null;
            moved = bind(wanted);
            if (moved.failed()) {
                Binding back = bind(new MetricsConfig(true, was.getHostString(), was.getPort()));
                serving = back.endpoints();
                if (back.failed()) {
                    log.error("reload: cannot bind the metrics endpoint on {} again: {}", was, back.failure());
                }
            }
        }
        if (!moved.failed()) {
            if (serving != null) {
                serving.close();
            }
            http = moved.endpoints();
            log.info("reload: metrics endpoint now on {}", url(http));
            return wanted;
        }
        http = serving;
        if (serving == null) {
            log.error("reload: {}; no metrics endpoint is served", moved.failure());
            return disabled(running);
        }
        log.error("reload: {}; the metrics endpoint stays on {}", moved.failure(), url(serving));
        return running;
    }

    /** An endpoint bound, or why it could not be. */
    private record Binding(HttpEndpoints endpoints, String failure) {
        boolean failed() {
            return endpoints == null;
        }
    }

    private Binding bind(MetricsConfig settings) {
        try {
            return new Binding(startHttp(settings), null);
        } catch (IllegalStateException e) {
            return new Binding(null, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Binding(
                    null, "metrics.port: interrupted while binding " + settings.host() + ":" + settings.port());
        }
    }

    private static MetricsConfig disabled(MetricsConfig settings) {
        return new MetricsConfig(false, settings.host(), settings.port());
    }

    private static String url(HttpEndpoints endpoints) {
        InetSocketAddress address = endpoints.address();
        return "http://" + address.getHostString() + ":" + address.getPort();
    }

    @Override
    public void killClients(String database) {
        clients.forEach(channel -> ClientInitializer.kill(channel, database));
    }

    /**
     * Stops gracefully: the listener closes at once, each client is closed with 57P01 as soon as it
     * is between transactions, and after {@code timeout} the rest are cut off and everything stops.
     * Blocks the calling thread (never an event loop) until then. A second call waits for the drain
     * already running, so that neither returns before pgmux has stopped (servers got Terminate).
     */
    public void drain(Duration timeout) {
        if (!draining.compareAndSet(false, true)) {
            awaitStopped();
            return;
        }
        if (listener != null) {
            listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        ChannelGroupFuture allGone = clients.newCloseFuture();
        log.info("draining {} client(s), at most {}", clients.size(), DurationFormat.of(timeout));
        clients.forEach(ClientInitializer::drain);
        if (!allGone.awaitUninterruptibly(Math.max(1, timeout.toMillis()))) {
            log.warn("shutdown-timeout reached: cutting off {} client(s) still in a transaction", clients.size());
        }
        close();
    }

    /**
     * Waits for the stop another thread runs. Never on one of pgmux's own event loops: the stop waits for them to end,
     * so such a caller returns at once instead (it is not one that exits the process).
     */
    private void awaitStopped() {
        for (EventLoopGroup group : List.of(acceptors, workers)) {
            for (EventExecutor loop : group) {
                if (loop.inEventLoop()) {
                    return;
                }
            }
        }
        stopped.join();
    }

    /** Completes once pgmux has stopped, also when the admin console's SHUTDOWN stopped it. */
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    /**
     * Stops everything. A second call waits until the first has finished (as {@link #stopped()} tells), so that a
     * caller that exits the process right after cannot cut off the first one before servers got Terminate.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            awaitStopped();
            return;
        }
        synchronized (this) {
            if (http != null) {
                http.close();
            }
        }
        if (listener != null) {
            listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        if (housekeeper != null) {
            housekeeper.stop();
        }
        clients.forEach(ClientInitializer::shutdown);
        registry.closeAll(workers.next());
        acceptors.shutdownGracefully(0, 2000, TimeUnit.MILLISECONDS);
        workers.shutdownGracefully(100, 5000, TimeUnit.MILLISECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        acceptors.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        metrics.close();
        maintenance.shutdownNow();
        log.info("pgmux stopped");
        stopped.complete(null);
    }
}
