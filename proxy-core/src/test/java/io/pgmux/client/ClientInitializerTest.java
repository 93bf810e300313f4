package io.pgmux.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.pgmux.Transport;
import io.pgmux.admin.AdminActions;
import io.pgmux.auth.AuthQuery;
import io.pgmux.auth.ClientAuthenticator;
import io.pgmux.auth.UserDirectory;
import io.pgmux.config.ConfigLoader;
import io.pgmux.config.PgmuxConfig;
import io.pgmux.metrics.PgmuxMetrics;
import io.pgmux.pool.PoolRegistry;
import io.pgmux.server.ServerConnector;
import io.pgmux.tls.TlsContexts;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client pipeline as {@link ClientInitializer} builds it: replies relayed to a client as neighbouring slices of
 * one server read (how {@code ServerConnection} forwards a burst of rows) leave as one buffer, because the pipeline
 * has the write coalescer on the way out.
 */
class ClientInitializerTest {
    private static final int MAX_MESSAGE_SIZE = 1 << 20;

    private final PgmuxMetrics metrics = new PgmuxMetrics();
    private final ByteBuf serverRead = PooledByteBufAllocator.DEFAULT.directBuffer(64);
    private EmbeddedChannel client;

    @AfterEach
    void releaseEverything() {
        if (client != null) {
            client.finishAndReleaseAll();
        }
        serverRead.release();
        assertEquals(0, serverRead.refCnt(), "the server's read buffer is still referenced");
        metrics.close();
    }

    @Test
    void neighbouringFramesRelayedToAClientLeaveAsOneBuffer() throws Exception {
        client = new EmbeddedChannel(new ClientInitializer(
                context(), MAX_MESSAGE_SIZE, TlsContexts.disabled().client(), clients()));
        // Three DataRows as the server sent them, next to each other in one read buffer.
        for (int i = 0; i < 3; i++) {
            serverRead.writeByte('D').writeInt(10).writeShort(1).writeInt(0);
        }

        for (int i = 0; i < 3; i++) {
            client.write(serverRead.retainedSlice(i * 11, 11), client.voidPromise());
        }
        client.flush();

        ByteBuf out = client.readOutbound();
        assertEquals(33, out.readableBytes(), "one buffer with the three rows");
        out.release();
        assertNull(client.readOutbound(), "nothing after it");
    }

    /** The context {@code PgmuxServer} gives its clients, for a configuration of defaults only. */
    private ClientContext context() throws Exception {
        PgmuxConfig config = ConfigLoader.fromString("pgmux {}");
        SecureRandom random = new SecureRandom();
        TlsContexts tls = TlsContexts.disabled();
        ServerConnector connector = new ServerConnector(Transport.best(), MAX_MESSAGE_SIZE, tls.server());
        PoolRegistry registry = new PoolRegistry(config, connector, System::nanoTime, metrics);
        ClientAuthenticator authenticator = new ClientAuthenticator(
                config.auth().type(),
                new UserDirectory(config.auth().users(), random),
                new AuthQuery(registry, connector));
        return new ClientContext(
                registry, authenticator, new CancelRouter(random), connector, metrics, new NoAdminActions());
    }

    /** No admin console runs here: nothing may ask for these. */
    private static final class NoAdminActions implements AdminActions {
        @Override
        public void shutdown() {
            throw new UnsupportedOperationException("no admin console in this test");
        }

        @Override
        public CompletableFuture<Void> reload() {
            throw new UnsupportedOperationException("no admin console in this test");
        }

        @Override
        public void killClients(String database) {
            throw new UnsupportedOperationException("no admin console in this test");
        }
    }

    private static DefaultChannelGroup clients() {
        return new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    }
}
