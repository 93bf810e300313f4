package io.pgmux.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgmux.protocol.Frame;

/** A thin Netty adapter: passes a server channel's events to its {@link ServerConnection}. */
final class ServerHandler extends ChannelInboundHandlerAdapter {
    private final ServerConnection server;

    ServerHandler(ServerConnection server) {
        this.server = server;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        server.onConnected();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        server.onFrame((Frame) msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        server.onReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        server.onWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        server.onInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        server.onException(cause);
    }
}
