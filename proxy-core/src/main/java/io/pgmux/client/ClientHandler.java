package io.pgmux.client;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.message.StartupPacket;

/** A thin Netty adapter: passes a client channel's events to its {@link ClientSession}. */
final class ClientHandler extends ChannelInboundHandlerAdapter {
    private final ClientSession session;

    ClientHandler(ClientSession session) {
        this.session = session;
    }

    ClientSession session() {
        return session;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        session.onActive();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Frame frame) {
            session.onFrame(frame);
        } else {
            session.onStartupPacket((StartupPacket) msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        session.onReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        session.onWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        session.onInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        session.onException(cause);
    }
}
