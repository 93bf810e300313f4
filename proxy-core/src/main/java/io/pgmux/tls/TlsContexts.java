package io.pgmux.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.pgmux.config.ConfigException;
import io.pgmux.config.TlsConfig;
import io.pgmux.config.TlsMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * The {@link SslContext}s built from {@code pgmux.tls}: {@link #client()} for client connections, where pgmux is the
 * TLS server, and {@link #server()} for server connections, where pgmux is the TLS client. Reading the PEM files
 * happens here, at start and again on every reload, so that a missing or unusable file is a configuration error naming
 * its key (and a reload that meets one is refused).
 */
public final class TlsContexts {
    /** TLS 1.2 and 1.3 only, as PostgreSQL's default {@code ssl_min_protocol_version}. */
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final ClientSide client;
    private final ServerSide server;

    private TlsContexts(ClientSide client, ServerSide server) {
        this.client = client;
        this.server = server;
    }

    /** TLS towards clients: the mode, and the context when the mode is not {@code disable}. */
    public record ClientSide(TlsMode mode, Optional<SslContext> context) {
        /** Whether an SSLRequest is answered 'S'. */
        public boolean offersTls() {
            return context.isPresent();
        }

        /** Whether a client without TLS is refused (require, verify-ca, verify-full). */
        public boolean requiresTls() {
            return mode.compareTo(TlsMode.REQUIRE) >= 0;
        }

        /** Whether the client certificate's CN must equal the user name (verify-full). */
        public boolean verifiesUserName() {
            return mode == TlsMode.VERIFY_FULL;
        }
    }

    /** TLS towards PostgreSQL: the mode, and the context when the mode is not {@code disable}. */
    public record ServerSide(TlsMode mode, Optional<SslContext> context) {
        /** Whether pgmux sends an SSLRequest before logging in. */
        public boolean asksForTls() {
            return context.isPresent();
        }

        /** Whether a server that answers 'N' fails the login (require, verify-ca, verify-full). */
        public boolean requiresTls() {
            return mode.compareTo(TlsMode.REQUIRE) >= 0;
        }
    }

    public ClientSide client() {
        return client;
    }

    public ServerSide server() {
        return server;
    }

    /** No TLS on either side; for tests and tools that never speak it. */
    public static TlsContexts disabled() {
        return new TlsContexts(
                new ClientSide(TlsMode.DISABLE, Optional.empty()), new ServerSide(TlsMode.DISABLE, Optional.empty()));
    }

    /**
     * Reads the certificate, key and CA files {@code tls} names and builds the contexts.
     *
     * @throws ConfigException listing every file that is missing, unreadable or not usable PEM, by key
     */
    public static TlsContexts from(TlsConfig tls) throws ConfigException {
        List<String> problems = new ArrayList<>();
        ClientSide client = new ClientSide(tls.client().mode(), clientContext(tls.client(), problems));
        ServerSide server = new ServerSide(tls.server().mode(), serverContext(tls.server(), problems));
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new TlsContexts(client, server);
    }

    private static Optional<SslContext> clientContext(TlsConfig.ClientTls tls, List<String> problems) {
        if (tls.mode() == TlsMode.DISABLE) {
            return Optional.empty();
        }
        boolean cert = readable("tls.client.cert", tls.cert(), problems);
        boolean key = readable("tls.client.key", tls.key(), problems);
        boolean ca = readable("tls.client.ca", tls.ca(), problems);
        if (!cert || !key || !ca) {
            return Optional.empty();
        }
        SslContextBuilder builder;
        try {
            builder = SslContextBuilder.forServer(
                    tls.cert().get().toFile(), tls.key().get().toFile());
        } catch (IllegalArgumentException e) {
            problems.add("tls.client.cert / tls.client.key: cannot load the certificate and key ("
                    + tls.cert().get() + ", " + tls.key().get() + "): " + causes(e)
                    + "; the key must be PEM, PKCS#8 and unencrypted (BEGIN PRIVATE KEY)");
            return Optional.empty();
        }
        builder.protocols(PROTOCOLS);
        boolean verifies = tls.mode() == TlsMode.VERIFY_CA || tls.mode() == TlsMode.VERIFY_FULL;
        if (tls.ca().isPresent()) {
            // With a CA and no verify mode, a certificate the client offers is still checked, as PostgreSQL does.
            builder.trustManager(tls.ca().get().toFile())
                    .clientAuth(verifies ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
        }
        return build(builder, "tls.client.cert / tls.client.key / tls.client.ca", problems);
    }

    private static Optional<SslContext> serverContext(TlsConfig.ServerTls tls, List<String> problems) {
        if (tls.mode() == TlsMode.DISABLE) {
            return Optional.empty();
        }
        if (!readable("tls.server.ca", tls.ca(), problems)) {
            return Optional.empty();
        }
        SslContextBuilder builder = SslContextBuilder.forClient().protocols(PROTOCOLS);
        boolean verifies = tls.mode() == TlsMode.VERIFY_CA || tls.mode() == TlsMode.VERIFY_FULL;
        if (!verifies) {
            // allow, prefer and require encrypt without checking who answers, as libpq's sslmode does.
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
        } else if (tls.ca().isPresent()) {
            builder.trustManager(tls.ca().get().toFile());
        }
        // else: the JVM's default trust store
        // verify-full: the one place the host name check is set; the engine gets the host from newHandler(host, port).
        builder.endpointIdentificationAlgorithm(tls.mode() == TlsMode.VERIFY_FULL ? "HTTPS" : null);
        return build(builder, "tls.server.ca", problems);
    }

    private static Optional<SslContext> build(SslContextBuilder builder, String keys, List<String> problems) {
        try {
            return Optional.of(builder.build());
        } catch (SSLException | IllegalArgumentException e) {
            problems.add(keys + ": cannot set up TLS: " + causes(e));
            return Optional.empty();
        }
    }

    /** True when {@code path} is absent or names a readable regular file; else adds a problem. */
    private static boolean readable(String key, Optional<Path> path, List<String> problems) {
        if (path.isEmpty() || (Files.isRegularFile(path.get()) && Files.isReadable(path.get()))) {
            return true;
        }
        problems.add(key + " cannot read " + path.get() + ": no such readable file");
        return false;
    }

    private static String causes(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !text.toString().contains(t.getMessage())) {
                text.append(text.length() == 0 ? "" : ": ").append(t.getMessage());
            }
        }
        return text.length() == 0 ? e.getClass().getSimpleName() : text.toString();
    }
}
