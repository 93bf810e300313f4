package io.pgmux.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.pgmux.Transport;
import io.pgmux.protocol.codec.FrameDecoder;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The harness's clients: opens them at a bounded rate, keeps connection storms going (a new connection when one
 * ends), and stops them all.
 */
final class Fleet implements ClientConnection.Listener {
    private static final int MAX_MESSAGE = 16 * 1024 * 1024;
    /** At most this many connections opened but not yet logged in (or failed) while connecting a crowd. */
    static final int MAX_PENDING_LOGINS = 256;

    private final Bootstrap bootstrap;
    private final ClientSpec spec;
    private final LoadStats stats;
    private final ScramKeyCache scramKeys;
    private final AtomicInteger opened = new AtomicInteger();
    private final Set<ClientConnection> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger settled = new AtomicInteger();
    private final AtomicInteger completed = new AtomicInteger();
    private final AtomicLong seeds = new AtomicLong(42);
    private volatile boolean stopping;

    Fleet(EventLoopGroup group, Transport transport, ClientSpec spec, LoadStats stats) {
        this.spec = spec;
        this.stats = stats;
        this.scramKeys = new ScramKeyCache(spec.password());
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(transport.clientChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000);
    }

    /**
     * Opens {@code count} clients, at most {@code perSecond} a second, and waits (up to {@code timeoutSeconds}) until
     * each has logged in or failed. Runs on the caller's thread, never on an event loop.
     */
    void open(ClientConnection.Role role, int count, int perSecond, long timeoutSeconds) throws InterruptedException {
        int target = settled.get() + count;
        long start = System.nanoTime();
        for (int i = 0; i < count && !stopping; i++) {
            long due = start + i * 1_000_000_000L / perSecond;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            // as an application's pool would, wait for logins in flight rather than pile up connect timeouts
            while (opened.get() - settled.get() >= MAX_PENDING_LOGINS && !stopping) {
                TimeUnit.MILLISECONDS.sleep(2);
            }
            connect(role, List.of());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (settled.get() < target && System.nanoTime() < deadline && !stopping) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    /** Runs one script (set-up statements) on a connection of its own; true when every statement succeeded. */
    boolean runScript(List<Workload.Call> script, long timeoutSeconds) throws InterruptedException {
        int before = completed.get();
        int target = settled.get() + 1;
        connect(ClientConnection.Role.SCRIPT, script);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (open.size() > 0 && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        return settled.get() >= target && completed.get() > before;
    }

    private void connect(ClientConnection.Role role, List<Workload.Call> script) {
        opened.incrementAndGet();
        ClientConnection client =
                new ClientConnection(spec, scramKeys, role, script, stats, this, seeds.incrementAndGet());
        open.add(client);
        ChannelFuture connect = bootstrap
                .clone()
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new FrameDecoder(MAX_MESSAGE), client);
                    }
                })
                .connect(spec.host(), spec.port());
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                stats.error(LoadStats.CONNECTION_FAILED);
                open.remove(client);
                settled.incrementAndGet();
            }
        });
    }

    @Override
    public void loggedIn(ClientConnection client) {
        settled.incrementAndGet();
    }

    @Override
    public void closed(ClientConnection client, boolean completedAsIntended) {
        open.remove(client);
        if (completedAsIntended) {
            completed.incrementAndGet();
        }
        if (!client.wasLoggedIn()) {
            settled.incrementAndGet();
        }
        if (client.role() == ClientConnection.Role.STORM && !stopping) {
            connect(ClientConnection.Role.STORM, List.of());
        }
    }

    @Override
    public boolean stopping() {
        return stopping;
    }

    int openCount() {
        return open.size();
    }

    /** Asks every client to finish its transaction and Terminate; waits up to {@code timeoutSeconds}. */
    void stop(long timeoutSeconds) throws InterruptedException {
        stopping = true;
        stats.stopCounting();
        open.forEach(ClientConnection::stop);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }
}
