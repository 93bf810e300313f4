package io.pgmux.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.pgmux.Transport;
import java.net.InetSocketAddress;

/**
 * The floor under any Netty proxy: a TCP relay that pairs each client with its own connection to the target and
 * copies bytes both ways, nothing else (no parsing, no pool, no login, no metrics). The comparison runs it as one more
 * target, so that its CPU per transaction shows what Netty and the kernel cost before pgmux does any work of its own.
 *
 * <p>Same transport and event-loop count as pgmux ({@link Transport#best()}, one loop per core); each client's
 * target connection lives on the client's event loop. Reads are written through as they come and flushed once per
 * read burst, as pgmux does.
 *
 * <pre>java -cp pgmux-bench.jar io.pgmux.load.ByteRelay LISTEN_PORT TARGET_HOST TARGET_PORT</pre>
 */
public final class ByteRelay {
    private ByteRelay() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 3) {
            System.err.println("usage: ByteRelay LISTEN_PORT TARGET_HOST TARGET_PORT");
            System.exit(2);
        }
        int listenPort = Integer.parseInt(args[0]);
        InetSocketAddress target = new InetSocketAddress(args[1], Integer.parseInt(args[2]));
        Transport transport = Transport.best();
        EventLoopGroup boss = transport.newGroup(1, new DefaultThreadFactory("relay-accept"));
        EventLoopGroup loops =
                transport.newGroup(Runtime.getRuntime().availableProcessors(), new DefaultThreadFactory("relay-io"));
        Channel listener = new ServerBootstrap()
                .group(boss, loops)
                .channel(transport.serverChannel())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel client) {
                        client.pipeline().addLast(new ClientSide(transport, target));
                    }
                })
                .bind("127.0.0.1", listenPort)
                .sync()
                .channel();
        System.out.println("relay listening on 127.0.0.1:" + listenPort + " -> " + target + " (" + transport + ")");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            listener.close().syncUninterruptibly();
            boss.shutdownGracefully();
            loops.shutdownGracefully();
        }));
        listener.closeFuture().sync();
    }

    /** A client: connects its target on its own event loop, then starts reading. */
    private static final class ClientSide extends Pipe {
        private final Transport transport;
        private final InetSocketAddress target;

        ClientSide(Transport transport, InetSocketAddress target) {
            this.transport = transport;
            this.target = target;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel client = ctx.channel();
            new Bootstrap()
                    .group(client.eventLoop())
                    .channel(transport.clientChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new Pipe(client))
                    .connect(target)
                    .addListener((ChannelFutureListener) connected -> {
                        if (connected.isSuccess()) {
                            peer = connected.channel();
                            client.config().setAutoRead(true);
                        } else {
                            client.close();
                        }
                    });
        }
    }

    /** Copies what one side reads to its peer, flushing once per read burst; a close on either side closes both. */
    private static class Pipe extends ChannelInboundHandlerAdapter {
        Channel peer;

        Pipe() {}

        Pipe(Channel peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            peer.write(msg, peer.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (peer != null) {
                peer.flush();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (peer != null) {
                peer.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
