package io.pgmux.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.message.SslRequest;
import java.util.List;

/**
 * One-shot, first in a server channel's pipeline when {@code tls.server.mode} is not {@code disable}: it holds back
 * {@code channelActive}, sends an SSLRequest, reads PostgreSQL's one-byte answer and, on 'S', puts an
 * {@link SslHandler} in front and waits for the handshake. Only then does the rest of the pipeline see
 * {@code channelActive} and start talking (StartupMessage or CancelRequest), encrypted or, on an accepted 'N', in
 * plain text. A refusal or a failed handshake reaches the pipeline as a {@link PgmuxException} (08006) naming the
 * server. States: ASKED (SSLRequest sent) → HANDSHAKING → removed.
 */
public final class ServerTlsNegotiator extends ByteToMessageDecoder {
    private enum Phase {
        ASKED,
        HANDSHAKING,
        DONE
    }

    private final TlsContexts.ServerSide tls;
    private final String host;
    private final int port;
    private Phase phase = Phase.ASKED;

    public ServerTlsNegotiator(TlsContexts.ServerSide tls, String host, int port) {
        if (!tls.asksForTls()) {
            throw new IllegalArgumentException("tls.server.mode is disable: no negotiation");
        }
        this.tls = tls;
        this.host = host;
        this.port = port;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // Not passed on yet: the connection is usable once TLS is settled.
        ctx.writeAndFlush(SslRequest.INSTANCE.toByteBuf(ctx.alloc()), ctx.voidPromise());
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (phase != Phase.ASKED) {
            // PostgreSQL says nothing before our StartupMessage, and after a failure nothing matters.
            in.skipBytes(in.readableBytes());
            return;
        }
        byte answer = in.readByte();
        if (in.isReadable()) {
            // What follows the answer was sent in plain text: never take it for the start of TLS (CVE-2021-23222).
            fail(ctx, "server %s:%d sent unencrypted data after its answer to the SSL request", host, port);
        } else if (answer == 'S') {
            startHandshake(ctx);
        } else if (answer == 'N' && !tls.requiresTls()) {
            ready(ctx);
        } else if (answer == 'N') {
            fail(
                    ctx,
                    "server %s:%d refused TLS, which tls.server.mode = %s requires",
                    host,
                    port,
                    tls.mode().configName());
        } else {
            fail(ctx, "server %s:%d answered the SSL request with '%c', not 'S' or 'N'", host, port, (char) answer);
        }
    }

    private void startHandshake(ChannelHandlerContext ctx) {
        phase = Phase.HANDSHAKING;
        // The peer host and port go to the engine: verify-full's host name check (set up in TlsContexts) needs them.
        SslHandler ssl = tls.context().orElseThrow().newHandler(ctx.alloc(), host, port);
        ctx.pipeline().addFirst("tls", ssl);
        ssl.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                ready(ctx);
            } else {
                handshakeFailed(ctx, f.cause());
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (phase == Phase.HANDSHAKING) {
            // The SslHandler reports its failure here and to the handshake future; one clear message is enough.
            handshakeFailed(ctx, cause);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    private void handshakeFailed(ChannelHandlerContext ctx, Throwable cause) {
        if (phase != Phase.HANDSHAKING) {
            return;
        }
        fail(
                ctx,
                "TLS handshake with server %s:%d failed (tls.server.mode = %s): %s",
                host,
                port,
                tls.mode().configName(),
                rootMessage(cause));
    }

    private void ready(ChannelHandlerContext ctx) {
        phase = Phase.DONE;
        ctx.fireChannelActive();
        ctx.pipeline().remove(this);
    }

    private void fail(ChannelHandlerContext ctx, String format, Object... args) {
        phase = Phase.DONE;
        ctx.fireExceptionCaught(new PgmuxException(SqlState.CONNECTION_FAILURE, format, args));
        ctx.close();
    }

    private static String rootMessage(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }
}
