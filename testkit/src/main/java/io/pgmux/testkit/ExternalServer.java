package io.pgmux.testkit;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/** A PostgreSQL server somebody else runs, named by a {@code postgresql://user:password@host:port/db} URL; never stopped. */
final class ExternalServer implements PostgresServer {
    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final String database;

    private ExternalServer(String host, int port, String user, String password, String database) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.database = database;
    }

    /**
     * Parses {@code postgresql://user:password@host:port/db} (also {@code postgres://} and {@code
     * jdbc:postgresql://}); the port defaults to 5432, the database to "postgres", user and password may be
     * percent-encoded.
     */
    static ExternalServer parse(String url) {
        String s = url.trim();
        if (s.startsWith("jdbc:")) {
            s = s.substring("jdbc:".length());
        }
        URI uri;
        try {
            uri = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("PGMUX_TEST_PG_URL is not a valid URL: " + e.getMessage(), e);
        }
        if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
            throw new IllegalArgumentException("PGMUX_TEST_PG_URL must start with postgresql://, not " + url);
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("PGMUX_TEST_PG_URL has no host");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String user = "postgres";
        String password = "";
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
            password = colon < 0 ? "" : decode(userInfo.substring(colon + 1));
        }
        String path = uri.getPath();
        String database = path == null || path.length() <= 1 ? "postgres" : path.substring(1);
        return new ExternalServer(host, uri.getPort() < 0 ? 5432 : uri.getPort(), user, password, database);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    @Override
    public TestPostgres.Source source() {
        return TestPostgres.Source.EXTERNAL;
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String superUser() {
        return user;
    }

    @Override
    public String superPassword() {
        return password;
    }

    @Override
    public String adminDatabase() {
        return database;
    }

    @Override
    public String binDir() {
        return null;
    }

    @Override
    public String dataDir() {
        return null;
    }

    @Override
    public String readServerFile(String path) {
        throw new UnsupportedOperationException("cannot read files of an external server (PGMUX_TEST_PG_URL)");
    }

    @Override
    public void writeServerFile(String path, String content) {
        throw new UnsupportedOperationException("cannot change files of an external server (PGMUX_TEST_PG_URL)");
    }

    @Override
    public void writePrivateServerFile(String path, String content) {
        throw new UnsupportedOperationException("cannot change files of an external server (PGMUX_TEST_PG_URL)");
    }

    @Override
    public void close() {
        // not ours to stop
    }
}
