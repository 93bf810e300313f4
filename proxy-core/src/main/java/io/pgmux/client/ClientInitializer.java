package io.pgmux.client;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.pgmux.protocol.codec.StartupDecoder;
import io.pgmux.protocol.codec.WriteCoalescer;

/** Builds a client channel's pipeline: the write coalescer, the startup decoder (which becomes a frame decoder) and the session. */
public final class ClientInitializer extends ChannelInitializer<Channel> {
    private final ClientContext context;
    private final int maxMessageSize;
    private final ChannelGroup clients;

    public ClientInitializer(ClientContext context, int maxMessageSize, ChannelGroup clients) {
        this.context = context;
        this.maxMessageSize = maxMessageSize;
        this.clients = clients;
    }

    @Override
    protected void initChannel(Channel ch) {
        clients.add(ch);
        ch.pipeline().addLast("coalescer", new WriteCoalescer());
        ch.pipeline().addLast("startup-decoder", new StartupDecoder(maxMessageSize));
        ch.pipeline().addLast("client", new ClientHandler(new ClientSession(ch, context)));
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
