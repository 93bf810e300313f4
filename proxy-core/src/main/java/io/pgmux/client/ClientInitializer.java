package io.pgmux.client;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.pgmux.protocol.codec.StartupDecoder;
import io.pgmux.protocol.codec.WriteCoalescer;
import io.pgmux.tls.TlsContexts;

/**
 * Builds a client channel's pipeline: the write coalescer, the startup decoder (which becomes a frame decoder) and the
 * session. Each connection is built with the message size limit and the TLS towards clients in force when it was
 * accepted; a reload ({@link #reconfigure}) changes them for connections accepted afterwards.
 */
public final class ClientInitializer extends ChannelInitializer<Channel> {
    private final ClientContext context;
    private final ChannelGroup clients;
    /** What the next connection is built with; one field, so that a connection never mixes two reloads. */
    private volatile Admission admission;

    private record Admission(int maxMessageSize, TlsContexts.ClientSide tls) {}

    public ClientInitializer(
            ClientContext context, int maxMessageSize, TlsContexts.ClientSide tls, ChannelGroup clients) {
        this.context = context;
        this.clients = clients;
        this.admission = new Admission(maxMessageSize, tls);
    }

    /** Connections accepted from now on use {@code maxMessageSize} and {@code tls}; open ones keep theirs. */
    public void reconfigure(int maxMessageSize, TlsContexts.ClientSide tls) {
        admission = new Admission(maxMessageSize, tls);
    }

    @Override
    protected void initChannel(Channel ch) {
        Admission now = admission;
        clients.add(ch);
        ch.pipeline().addLast("coalescer", new WriteCoalescer());
        ch.pipeline().addLast("startup-decoder", new StartupDecoder(now.maxMessageSize()));
        ch.pipeline().addLast("client", new ClientHandler(new ClientSession(ch, context, now.tls())));
    }

    /** Closes a client with 57P01 because pgmux is stopping; safe from any thread. */
    public static void shutdown(Channel ch) {
        ClientHandler handler = ch.pipeline().get(ClientHandler.class);
        if (handler != null) {
            ch.eventLoop().execute(handler.session()::shutdown);
        } else {
            ch.close();
        }
    }

    /** KILL: closes the client (08P01 "database killed") if it uses {@code database}; safe from any thread. */
    public static void kill(Channel ch, String database) {
        ClientHandler handler = ch.pipeline().get(ClientHandler.class);
        if (handler != null) {
            ch.eventLoop().execute(() -> handler.session().kill(database));
        }
    }

    /** pgmux is stopping gracefully: the client goes (57P01) once it is between transactions; safe from any thread. */
    public static void drain(Channel ch) {
        ClientHandler handler = ch.pipeline().get(ClientHandler.class);
        if (handler != null) {
            ch.eventLoop().execute(handler.session()::drain);
        } else {
            ch.close();
        }
    }
}
