package io.pgmux.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.pgmux.Transport;
import io.pgmux.pool.CloseReason;
import io.pgmux.testkit.TestPostgres;
import io.pgmux.tls.TlsContexts;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server pipeline as {@link ServerConnector} builds it, on a connection logged in to a real PostgreSQL: frames a
 * client sends as neighbouring slices of one read (a pipelined Parse/Bind/Execute/Sync) leave as one buffer, because
 * the pipeline has the write coalescer on the way out.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerPipelineIT {
    private static final String USER = "it_pipeline";
    private static final String DB = "it_pipeline";
    private static final String PASSWORD = "pipeline-pw";

    @Test
    void neighbouringFramesWrittenToAServerLeaveAsOneBuffer() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        Transport transport = Transport.best();
        EventLoopGroup loops = transport.newGroup(1, new DefaultThreadFactory("it-server-pipeline", true));
        try {
            ServerConnector connector = new ServerConnector(
                    transport, 1 << 20, TlsContexts.disabled().server());
            ServerCredentials credentials = new ServerCredentials(
                    USER, () -> new ServerCredentials.Secret(Optional.of(PASSWORD), Optional.empty()));
            ServerConnection server = connector
                    .connect(
                            loops.next(),
                            new ServerConnector.Target(
                                    "it_pipeline/it_pipeline",
                                    pg.host(),
                                    pg.port(),
                                    DB,
                                    credentials,
                                    Map.of(),
                                    Duration.ofSeconds(10)),
                            lost -> {})
                    .get(20, TimeUnit.SECONDS);
            Channel channel = server.channel();
            List<Integer> written = new CopyOnWriteArrayList<>();
            channel.eventLoop()
                    .submit(() -> {
                        // Last on the way out, where the socket would be: it notes what it gets and drops it, so
                        // PostgreSQL sees nothing of this.
                        channel.pipeline().addFirst("recorder", new ChannelOutboundHandlerAdapter() {
                            @Override
                            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                                written.add(((ByteBuf) msg).readableBytes());
                                ReferenceCountUtil.release(msg);
                                promise.trySuccess();
                            }
                        });
                        ByteBuf clientRead = channel.alloc().directBuffer(64);
                        for (int i = 0; i < 3; i++) {
                            clientRead.writeByte('S').writeInt(4);
                        }
                        for (int i = 0; i < 3; i++) {
                            channel.write(clientRead.retainedSlice(i * 5, 5), channel.voidPromise());
                        }
                        channel.flush();
                        clientRead.release();
                    })
                    .get(10, TimeUnit.SECONDS);

            assertEquals(List.of(15), written, "the three Syncs in one buffer");
            channel.eventLoop().execute(() -> server.close(CloseReason.SHUTDOWN));
            channel.closeFuture().await(10, TimeUnit.SECONDS);
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
    }
}
