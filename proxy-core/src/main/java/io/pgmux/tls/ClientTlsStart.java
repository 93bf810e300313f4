package io.pgmux.tls;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Starts TLS on a client connection that sent an SSLRequest, and reads the client's certificate afterwards. The
 * StartupDecoder has already refused bytes pipelined behind the SSLRequest, so all that arrives from here on passes
 * through the {@link SslHandler}.
 */
public final class ClientTlsStart {
    private ClientTlsStart() {}

    /** Answers 'S' in plain text, then puts an {@link SslHandler} first in the pipeline; call on the channel's loop. */
    public static Future<Channel> begin(Channel channel, SslContext context) {
        assert channel.eventLoop().inEventLoop();
        // The 'S' goes out before the SslHandler is in the pipeline, so it is not encrypted.
        channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'S'}), channel.voidPromise());
        SslHandler ssl = context.newHandler(channel.alloc());
        channel.pipeline().addFirst("tls", ssl);
        return ssl.handshakeFuture();
    }

    /** Whether {@code channel} speaks TLS with a finished handshake. */
    public static boolean isEncrypted(Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        return ssl != null && ssl.handshakeFuture().isSuccess();
    }

    /** The CN of the certificate the client presented, if it presented one. */
    public static Optional<String> peerCommonName(Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return Optional.empty();
        }
        try {
            Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
                return Optional.empty();
            }
            for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return Optional.of(rdn.getValue().toString());
                }
            }
            return Optional.empty();
        } catch (SSLPeerUnverifiedException | InvalidNameException e) {
            // No certificate, or a subject that is not a distinguished name: either way, no CN to match.
            return Optional.empty();
        }
    }
}
