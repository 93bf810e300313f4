package io.pgmux;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay from a port of 127.0.0.1 to PostgreSQL, standing in for the network between pgmux and PostgreSQL: it
 * can drop every connection ({@link #cutAll()}), stop listening ({@link #stop()}), as when PostgreSQL is down, and
 * listen again on the same port ({@link #start()}).
 */
final class Relay implements AutoCloseable {
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private int port;
    private volatile ServerSocket listener;

    Relay(String targetHost, int targetPort) {
        this.target = new InetSocketAddress(targetHost, targetPort);
    }

    /** Listens (again) on this relay's port, a free one the first time. */
    synchronized Relay start() {
        try {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            port = socket.getLocalPort();
            listener = socket;
            Thread accepter = new Thread(() -> accept(socket), "relay-accept-" + port);
            accepter.setDaemon(true);
            accepter.start();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int port() {
        return port;
    }

    /** Drops every relayed connection, both ends at once, as a network failure or a crashed server would. */
    void cutAll() {
        for (Socket socket : sockets) {
            closeQuietly(socket);
        }
        sockets.clear();
    }

    /** Stops listening and drops every connection: new connections are refused, as by a PostgreSQL that is down. */
    synchronized void stop() {
        ServerSocket socket = listener;
        listener = null;
        if (socket != null) {
            closeQuietly(socket);
        }
        cutAll();
    }

    @Override
    public void close() {
        stop();
    }

    private void accept(ServerSocket socket) {
        while (listener == socket) {
            Socket client;
            try {
                client = socket.accept();
            } catch (IOException e) {
                return; // stopped
            }
            Socket server = new Socket();
            try {
                server.connect(target, 5_000);
            } catch (IOException e) {
                closeQuietly(client);
                closeQuietly(server);
                continue;
            }
            sockets.add(client);
            sockets.add(server);
            pump(client, server);
            pump(server, client);
        }
    }

    private void pump(Socket from, Socket to) {
        Thread thread = new Thread(
                () -> {
                    byte[] buffer = new byte[16 * 1024];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        int n;
                        while ((n = in.read(buffer)) >= 0) {
                            out.write(buffer, 0, n);
                            out.flush();
                        }
                    } catch (IOException e) {
                        // one side went away: the other goes too, below
                    } finally {
                        closeQuietly(from);
                        closeQuietly(to);
                        sockets.remove(from);
                        sockets.remove(to);
                    }
                },
                "relay-pump-" + port);
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // closing a socket that is already broken: nothing left to do
        }
    }
}
