package io.pgmux.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLSession;

/** How SHOW CLIENTS and SHOW SERVERS describe a connection's TLS, as PgBouncer's {@code tls} column does. */
public final class TlsDescription {
    private TlsDescription() {}

    /** {@code TLSv1.3/TLS_AES_256_GCM_SHA384} once {@code channel}'s handshake is done; "" in plain text. */
    public static String of(Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null || !ssl.handshakeFuture().isSuccess()) {
            return "";
        }
        SSLSession session = ssl.engine().getSession();
        return session.getProtocol() + "/" + session.getCipherSuite();
    }
}
