package io.pgmux;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP relay on 127.0.0.1 between pgmux and PostgreSQL that the tests can make misbehave, the way a network or a
 * server does: pass bytes, pass them late ({@link #latency}), stop passing them ({@link #stall}), reset new
 * connections ({@link #dropNew}), stop listening ({@link #refuseNew}) and listen again on the same port ({@link
 * #pass}), or act on the open ones: half-close towards pgmux ({@link #halfCloseAll}) or reset both sides ({@link
 * #resetAll}). It also records how each connection began ({@link #openingCodes}). Plain blocking sockets, two daemon threads per connection; every wait is bounded
 * and {@link #close()} stops all of them.
 */
final class FaultRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FaultRelay.class);
    /** How often a stalled pump looks whether it may go on. */
    private static final long STALL_POLL_MILLIS = 10;
    /** How long {@link #close()} waits for each thread. */
    private static final long JOIN_MILLIS = 2_000;
    /** The code of an SSLRequest, as {@link #openingCodes} shows it. */
    static final int SSL_REQUEST_CODE = 80877103;
    /** The code of a CancelRequest, as {@link #openingCodes} shows it. */
    static final int CANCEL_REQUEST_CODE = 80877102;

    /** What the relay does with bytes and new connections. */
    enum Mode {
        /** Forward everything at once. */
        PASS,
        /** Forward everything after {@link #latency(Duration)}, each way. */
        LATENCY,
        /** Accept connections but forward nothing, in either direction, until the mode changes. */
        STALL,
        /**
         * Connections accepted in this mode pass what pgmux sends only after {@link #delayNew(Duration)} (a cancel
         * request that arrives late); connections already open go on at once.
         */
        DELAY_NEW,
        /** Accept new connections and reset them at once: PostgreSQL looks unreachable. Open ones go on. */
        DROP_NEW,
        /** Do not listen: new connections are refused, as by a host where PostgreSQL is down. Open ones go on. */
        REFUSE_NEW
    }

    private final InetSocketAddress target;
    /** The port pgmux connects to; the relay listens there again after {@link Mode#REFUSE_NEW}. */
    private final int port;
    /** Null while refusing. */
    private volatile ServerSocket listener;

    private final Set<Pair> pairs = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    /** Per connection, in the order they sent them: the first int after the length of what pgmux sent first. */
    private final List<Integer> openingCodes = new CopyOnWriteArrayList<>();

    private volatile Mode mode = Mode.PASS;
    private volatile long latencyMillis;
    private volatile boolean closed;

    private FaultRelay(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = bind(0);
        this.port = listener.getLocalPort();
    }

    /** Starts a relay on a free port of 127.0.0.1 to {@code host:port}, passing everything. */
    static FaultRelay start(String host, int port) {
        try {
            FaultRelay relay = new FaultRelay(new InetSocketAddress(host, port));
            relay.startAcceptor(relay.listener);
            return relay;
        } catch (IOException e) {
            throw new IllegalStateException("could not start the fault relay: " + e, e);
        }
    }

    int port() {
        return port;
    }

    Mode mode() {
        return mode;
    }

    void pass() {
        set(Mode.PASS);
    }

    /** Each chunk of bytes waits {@code delay} before it is forwarded, in both directions. */
    void latency(Duration delay) {
        latencyMillis = delay.toMillis();
        set(Mode.LATENCY);
    }

    void stall() {
        set(Mode.STALL);
    }

    /** New connections pass each chunk pgmux sends after {@code delay}; open ones are not slowed. */
    void delayNew(Duration delay) {
        latencyMillis = delay.toMillis();
        set(Mode.DELAY_NEW);
    }

    void dropNew() {
        set(Mode.DROP_NEW);
    }

    /** Stops listening until the mode changes again; connections already relayed go on. */
    void refuseNew() {
        set(Mode.REFUSE_NEW);
    }

    /** A {@code databases} entry named {@code name} that reaches the same-named database through this relay. */
    String database(String name, String more) {
        return TestProxy.quote(name) + " { host = \"127.0.0.1\", port = " + port + "\n" + more + "\n}\n";
    }

    /** Connections accepted so far, dropped ones included. */
    int acceptedCount() {
        return accepted.get();
    }

    /**
     * What each connection began with, in order: the code after the length of pgmux's first message, which tells an
     * SSLRequest ({@value #SSL_REQUEST_CODE}), a CancelRequest ({@value #CANCEL_REQUEST_CODE}) and a StartupMessage
     * (its protocol version) apart. Recorded before the bytes are passed on.
     */
    List<Integer> openingCodes() {
        return List.copyOf(openingCodes);
    }

    /** Connections relayed now. */
    int openCount() {
        return pairs.size();
    }

    /**
     * Half-closes every open connection towards pgmux: pgmux reads end-of-stream from its server, while PostgreSQL
     * still sees an open connection (until pgmux closes its side, which the relay then passes on).
     */
    void halfCloseAll() {
        log.info("fault relay {}: half-closing {} connections towards pgmux", port(), pairs.size());
        for (Pair pair : pairs) {
            pair.halfCloseTowardsPgmux();
        }
    }

    /** Resets every open connection, on both sides (TCP RST). */
    void resetAll() {
        log.info("fault relay {}: resetting {} connections", port(), pairs.size());
        for (Pair pair : pairs) {
            pair.reset();
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            stopListening();
        }
        resetAll();
        threads.forEach(FaultRelay::joinQuietly);
    }

    @Override
    public String toString() {
        return "fault relay 127.0.0.1:" + port() + " -> " + target + " (" + mode + ")";
    }

    private synchronized void set(Mode newMode) {
        log.info("fault relay {}: {} -> {}", port(), mode, newMode);
        Mode old = mode;
        mode = newMode;
        if (newMode == Mode.REFUSE_NEW && old != Mode.REFUSE_NEW) {
            stopListening();
        } else if (newMode != Mode.REFUSE_NEW && old == Mode.REFUSE_NEW && !closed) {
            try {
                ServerSocket socket = bind(port);
                listener = socket;
                startAcceptor(socket);
            } catch (IOException e) {
                throw new IllegalStateException("fault relay cannot listen on port " + port + " again: " + e, e);
            }
        }
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        // Listening again on the same port must not wait for connections of the last listener in TIME_WAIT.
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        return socket;
    }

    private void startAcceptor(ServerSocket socket) {
        Thread t = new Thread(() -> acceptLoop(socket), "fault-relay-accept-" + port);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private void stopListening() {
        ServerSocket socket = listener;
        listener = null;
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing to stop the acceptor; nothing else to do with the error
            }
        }
    }

    private void acceptLoop(ServerSocket socket) {
        while (!closed && listener == socket) {
            Socket fromPgmux;
            try {
                fromPgmux = socket.accept();
            } catch (IOException e) {
                if (!closed && listener == socket) {
                    log.warn("fault relay {}: accept failed: {}", port(), e.toString());
                }
                return;
            }
            accepted.incrementAndGet();
            if (mode == Mode.DROP_NEW) {
                resetQuietly(fromPgmux);
                continue;
            }
            Socket toServer = new Socket();
            try {
                fromPgmux.setTcpNoDelay(true);
                toServer.setTcpNoDelay(true);
                toServer.connect(target, 5_000);
            } catch (IOException e) {
                log.warn("fault relay {}: cannot reach {}: {}", port(), target, e.toString());
                resetQuietly(fromPgmux);
                closeQuietly(toServer);
                continue;
            }
            Pair pair = new Pair(fromPgmux, toServer);
            pairs.add(pair);
            pair.start();
        }
    }

    /** One relayed connection: pgmux's socket, the server's socket and a pump each way. */
    private final class Pair {
        private final Socket pgmux;
        private final Socket server;
        private final AtomicInteger pumpsLeft = new AtomicInteger(2);
        /** The first eight bytes from pgmux (length and code), until complete; touched by the to-server pump only. */
        private final byte[] opening = new byte[8];
        /** How long what pgmux sends waits before it goes on: {@link Mode#DELAY_NEW}'s delay when accepted then. */
        private final long toServerDelayMillis = mode == Mode.DELAY_NEW ? latencyMillis : 0;

        private int openingLength;

        Pair(Socket pgmux, Socket server) {
            this.pgmux = pgmux;
            this.server = server;
        }

        void start() {
            pump("to-server", pgmux, server);
            pump("to-pgmux", server, pgmux);
        }

        private void pump(String direction, Socket from, Socket to) {
            Thread t = new Thread(() -> run(from, to), "fault-relay-" + port() + "-" + direction);
            t.setDaemon(true);
            threads.removeIf(old -> !old.isAlive());
            threads.add(t);
            t.start();
        }

        private void run(Socket from, Socket to) {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                while (true) {
                    int n = in.read(buffer);
                    if (n < 0) {
                        // Pass the end of the stream on, and let the other direction finish by itself.
                        to.shutdownOutput();
                        break;
                    }
                    if (from == pgmux) {
                        recordOpening(buffer, n);
                    }
                    if (!awaitForwarding()) {
                        break;
                    }
                    if (from == pgmux && toServerDelayMillis > 0) {
                        Await.pause(toServerDelayMillis);
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // A reset or a closed socket ends this direction; the pair closes below.
                reset();
            } finally {
                if (pumpsLeft.decrementAndGet() == 0) {
                    closeQuietly(pgmux);
                    closeQuietly(server);
                    pairs.remove(this);
                }
            }
        }

        private void recordOpening(byte[] bytes, int n) {
            if (openingLength == opening.length) {
                return;
            }
            int take = Math.min(n, opening.length - openingLength);
            System.arraycopy(bytes, 0, opening, openingLength, take);
            openingLength += take;
            if (openingLength == opening.length) {
                openingCodes.add(ByteBuffer.wrap(opening, 4, 4).getInt());
            }
        }

        /** Waits out a stall or a latency; false when the relay or this pair closed meanwhile. */
        private boolean awaitForwarding() {
            while (mode == Mode.STALL) {
                if (closed || pgmux.isClosed() || server.isClosed()) {
                    return false;
                }
                Await.pause(STALL_POLL_MILLIS);
            }
            if (mode == Mode.LATENCY && latencyMillis > 0) {
                Await.pause(latencyMillis);
            }
            return !closed;
        }

        void halfCloseTowardsPgmux() {
            try {
                pgmux.shutdownOutput();
            } catch (IOException e) {
                // already closed: nothing to half-close
            }
        }

        void reset() {
            resetQuietly(pgmux);
            resetQuietly(server);
        }
    }

    private static void resetQuietly(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
        } catch (SocketException e) {
            // already closed: the close below is a no-op
        }
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway; a failure leaves nothing to clean up
        }
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join(JOIN_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            log.warn("fault relay thread {} still running after {} ms", t.getName(), JOIN_MILLIS);
        }
    }
}
