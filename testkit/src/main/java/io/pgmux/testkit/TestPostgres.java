package io.pgmux.testkit;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server for tests, benchmarks and the demo: the external server named by {@code
 * PGMUX_TEST_PG_URL}, else a Testcontainers container when Docker is available, else embedded binaries from Maven
 * Central run with {@code initdb}/{@code pg_ctl}. Close it to stop the server (the {@link #shared()} one is stopped
 * when the JVM exits).
 */
public final class TestPostgres implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TestPostgres.class);

    /** Environment variable naming an external server, {@code postgresql://user:password@host:port/db}; the user must be a superuser. */
    public static final String URL_ENV = "PGMUX_TEST_PG_URL";
    /** Environment variable with the default PostgreSQL major version. */
    public static final String VERSION_ENV = "PGMUX_TEST_PG_VERSION";
    /** The PostgreSQL major version used when {@value #VERSION_ENV} is not set. */
    public static final int DEFAULT_MAJOR_VERSION = 17;

    private static final int CONNECT_TIMEOUT_SECONDS = 10;
    private static final long RELOAD_TIMEOUT_MILLIS = 10_000;

    /** Where a server comes from. */
    public enum Source {
        /** Named by {@value #URL_ENV}; never stopped by testkit. */
        EXTERNAL,
        /** A Testcontainers {@code postgres:<major>} container. */
        CONTAINER,
        /** Embedded binaries from Maven Central, run as a local process. */
        EMBEDDED
    }

    private static final Object SHARED_LOCK = new Object();
    private static TestPostgres shared;
    private static RuntimeException sharedFailure;

    private final PostgresServer server;
    private final boolean isShared;
    private final int majorVersion;
    private final Object hbaLock = new Object();

    private TestPostgres(PostgresServer server, boolean isShared) throws SQLException {
        this.server = server;
        this.isShared = isShared;
        try (Connection c = connect(server.adminDatabase());
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SHOW server_version_num")) {
            rs.next();
            this.majorVersion = Integer.parseInt(rs.getString(1)) / 10000;
        }
    }

    /**
     * The server shared by everything in this JVM, of the default major version; started on first use and stopped
     * by a shutdown hook. Its {@link #close()} does nothing.
     */
    public static TestPostgres shared() {
        synchronized (SHARED_LOCK) {
            if (shared != null) {
                return shared;
            }
            if (sharedFailure != null) {
                throw new IllegalStateException("the shared PostgreSQL failed to start earlier", sharedFailure);
            }
            try {
                shared = create(defaultMajorVersion(), true);
                return shared;
            } catch (RuntimeException e) {
                sharedFailure = e;
                throw e;
            }
        }
    }

    /** A private server of the default major version; the caller closes it. */
    public static TestPostgres start() {
        return start(defaultMajorVersion());
    }

    /**
     * A private server of PostgreSQL {@code majorVersion} (14 to 18); the caller closes it. With {@value #URL_ENV}
     * set this is the external server, whatever its version.
     */
    public static TestPostgres start(int majorVersion) {
        return create(majorVersion, false);
    }

    /** The major version from {@value #VERSION_ENV}, else {@value #DEFAULT_MAJOR_VERSION}. */
    public static int defaultMajorVersion() {
        String env = System.getenv(VERSION_ENV);
        if (env == null || env.isBlank()) {
            return DEFAULT_MAJOR_VERSION;
        }
        try {
            return Integer.parseInt(env.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(VERSION_ENV + " must be a major version such as 17, not " + env, e);
        }
    }

    private static TestPostgres create(int majorVersion, boolean isShared) {
        PostgresServer server = startServer(majorVersion);
        try {
            TestPostgres pg = new TestPostgres(server, isShared);
            if (pg.majorVersion != majorVersion) {
                log.warn("asked for PostgreSQL {} but {} runs {}", majorVersion, server.source(), pg.majorVersion);
            }
            return pg;
        } catch (SQLException | RuntimeException e) {
            server.close();
            throw new IllegalStateException(
                    "PostgreSQL started (" + server.source() + ") but does not accept the superuser: " + e, e);
        }
    }

    private static PostgresServer startServer(int majorVersion) {
        String url = System.getenv(URL_ENV);
        if (url != null && !url.isBlank()) {
            ExternalServer external = ExternalServer.parse(url);
            log.info("using the external PostgreSQL at {}:{} ({})", external.host(), external.port(), URL_ENV);
            return external;
        }
        if (Docker.available()) {
            try {
                return ContainerServer.start(majorVersion);
            } catch (RuntimeException e) {
                log.warn(
                        "could not start a PostgreSQL {} container, using embedded binaries: {}",
                        majorVersion,
                        e.toString());
            }
        }
        try {
            return EmbeddedPostgres.start(majorVersion);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "could not start an embedded PostgreSQL " + majorVersion + ": " + e.getMessage(), e);
        }
    }

    /** Where this server comes from. */
    public Source source() {
        return server.source();
    }

    public String host() {
        return server.host();
    }

    public int port() {
        return server.port();
    }

    public String superUser() {
        return server.superUser();
    }

    public String superPassword() {
        return server.superPassword();
    }

    /** The server's actual major version, from {@code server_version_num}. */
    public int majorVersion() {
        return majorVersion;
    }

    /** {@code jdbc:postgresql://host:port/database}. */
    public String jdbcUrl(String database) {
        String host = server.host();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "jdbc:postgresql://" + host + ":" + server.port() + "/"
                + URLEncoder.encode(database, StandardCharsets.UTF_8);
    }

    /** A new connection to {@code database} as the superuser. */
    public Connection connect(String database) throws SQLException {
        return connect(database, server.superUser(), server.superPassword());
    }

    /** A new connection to {@code database} as {@code user}. */
    public Connection connect(String database, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
        props.setProperty("loginTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS * 2));
        props.setProperty("ApplicationName", "pgmux-testkit");
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    /** Creates {@code name} unless it exists. */
    public void createDatabase(String name) {
        createDatabase(name, null);
    }

    /** Creates {@code name} owned by {@code owner} (null: the superuser), or makes an existing one owned by it. */
    public void createDatabase(String name, String owner) {
        String ownerClause = owner == null ? "" : " OWNER " + ident(owner);
        for (int attempt = 1; ; attempt++) {
            try (Connection c = admin();
                    Statement st = c.createStatement()) {
                try {
                    st.execute("CREATE DATABASE " + ident(name) + ownerClause);
                } catch (SQLException e) {
                    if (!"42P04".equals(e.getSQLState())) { // duplicate_database
                        throw e;
                    }
                    if (owner != null) {
                        st.execute("ALTER DATABASE " + ident(name) + " OWNER TO " + ident(owner));
                    }
                }
                return;
            } catch (SQLException e) {
                // 55006: template1 is busy because another session is creating a database right now
                if (!"55006".equals(e.getSQLState()) || attempt >= 10) {
                    throw new IllegalStateException("could not create database " + name + ": " + e.getMessage(), e);
                }
                sleep(200);
            }
        }
    }

    /**
     * Creates the login role {@code name} with {@code password}, or resets the password of an existing one. The
     * server stores a SCRAM-SHA-256 verifier.
     */
    public void createUser(String name, String password) {
        try (Connection c = admin();
                Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            createOrAlterRole(st, name, password);
        } catch (SQLException e) {
            throw new IllegalStateException("could not create user " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * Creates (or updates) the login role {@code name} with an MD5-hashed password, and lets it log in with the
     * {@code md5} method (a pg_hba.conf rule; for an external server that rule must already be there).
     */
    public void createMd5User(String name, String password) {
        try (Connection c = admin();
                Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'md5'");
            createOrAlterRole(st, name, password);
        } catch (SQLException e) {
            throw new IllegalStateException("could not create MD5 user " + name + ": " + e.getMessage(), e);
        }
        addRuleIfPossible("host all " + hbaName(name) + " all md5");
    }

    /** Creates (or updates) the login role {@code name} that logs in with a cleartext password ({@code password} method). */
    public void createPasswordUser(String name, String password) {
        createUser(name, password);
        addRuleIfPossible("host all " + hbaName(name) + " all password");
    }

    /**
     * Puts {@code line} at the top of pg_hba.conf (unless it is already there) and reloads the configuration,
     * returning once new connections follow it.
     *
     * @throws UnsupportedOperationException for an external server
     * @throws IllegalArgumentException when PostgreSQL rejects the line (the file is then restored)
     */
    public void addHbaRule(String line) {
        synchronized (hbaLock) {
            OffsetDateTime loadedBefore;
            try (Connection c = admin();
                    Statement st = c.createStatement()) {
                String hbaFile = queryString(st, "SHOW hba_file");
                String old = server.readServerFile(hbaFile);
                if (old.lines().map(String::trim).anyMatch(line.trim()::equals)) {
                    return;
                }
                server.writeServerFile(hbaFile, line + "\n" + old);
                List<String> errors = new ArrayList<>();
                try (ResultSet rs =
                        st.executeQuery("SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL")) {
                    while (rs.next()) {
                        errors.add("line " + rs.getInt(1) + ": " + rs.getString(2));
                    }
                }
                if (!errors.isEmpty()) {
                    server.writeServerFile(hbaFile, old);
                    throw new IllegalArgumentException("PostgreSQL rejects pg_hba.conf rule '" + line + "': " + errors);
                }
                loadedBefore = loadTime(st);
                st.execute("SELECT pg_reload_conf()");
            } catch (SQLException e) {
                throw new IllegalStateException("could not add pg_hba.conf rule '" + line + "': " + e.getMessage(), e);
            }
            awaitReload(loadedBefore);
            log.debug("added pg_hba.conf rule: {}", line);
        }
    }

    /**
     * Turns on TLS with the PEM certificate {@code cert} and its PKCS#8 key {@code key}: both are copied into the
     * data directory, owned by the server's OS user (the key with mode 0600), {@code ssl} is set on with ALTER
     * SYSTEM, and the configuration reloaded. Returns once new connections may use TLS. Meant for a private server
     * ({@link #start()}), since it changes the server for everyone.
     *
     * @throws UnsupportedOperationException for an external server
     */
    public void enableTls(Path cert, Path key) {
        OffsetDateTime loadedBefore;
        try (Connection c = admin();
                Statement st = c.createStatement()) {
            String dataDir = queryString(st, "SHOW data_directory");
            server.writePrivateServerFile(dataDir + "/pgmux-test-server.crt", Files.readString(cert));
            server.writePrivateServerFile(dataDir + "/pgmux-test-server.key", Files.readString(key));
            st.execute("ALTER SYSTEM SET ssl_cert_file = 'pgmux-test-server.crt'");
            st.execute("ALTER SYSTEM SET ssl_key_file = 'pgmux-test-server.key'");
            st.execute("ALTER SYSTEM SET ssl = on");
            loadedBefore = loadTime(st);
            st.execute("SELECT pg_reload_conf()");
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("could not enable TLS: " + e.getMessage(), e);
        }
        awaitReload(loadedBefore);
        log.info("enabled TLS on {} with {}", this, cert);
    }

    /** Client connections that {@code user} has open, not counting the one that asks. */
    public int countConnections(String user) {
        try (Connection c = admin();
                PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE usename = ?"
                        + " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")) {
            ps.setString(1, user);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not count connections of " + user + ": " + e.getMessage(), e);
        }
    }

    /** The directory with the server's programs (embedded only), else null. */
    public String binDir() {
        return server.binDir();
    }

    /** The data directory (embedded only), else null. */
    public String dataDir() {
        return server.dataDir();
    }

    /** A {@code psql} to use against this server, or null when none is installed. */
    public String psqlPath() {
        return tool("psql");
    }

    /** A {@code pgbench} to use against this server, or null when none is installed. */
    public String pgbenchPath() {
        return tool("pgbench");
    }

    /** Stops the server if this object started it; the shared server is stopped only when the JVM exits. */
    @Override
    public void close() {
        if (isShared) {
            log.debug("close() on the shared PostgreSQL: it stays up until the JVM exits");
            return;
        }
        server.close();
    }

    @Override
    public String toString() {
        return "TestPostgres[" + server.source() + " PostgreSQL " + majorVersion + " at " + host() + ":" + port() + "]";
    }

    PostgresServer server() {
        return server;
    }

    private Connection admin() throws SQLException {
        return connect(server.adminDatabase());
    }

    private void addRuleIfPossible(String line) {
        try {
            addHbaRule(line);
        } catch (UnsupportedOperationException e) {
            log.warn("cannot add '{}' to pg_hba.conf of an {} server; it must be there already", line, source());
        }
    }

    private static void createOrAlterRole(Statement st, String name, String password) throws SQLException {
        String spec = " LOGIN PASSWORD " + literal(password);
        try {
            st.execute("CREATE ROLE " + ident(name) + spec);
        } catch (SQLException e) {
            if (!"42710".equals(e.getSQLState())) { // duplicate_object
                throw e;
            }
            st.execute("ALTER ROLE " + ident(name) + spec);
        }
    }

    /** Polls fresh connections until the postmaster has reloaded its configuration (bounded). */
    private void awaitReload(OffsetDateTime loadedBefore) {
        long deadline = System.currentTimeMillis() + RELOAD_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            try (Connection c = admin();
                    Statement st = c.createStatement()) {
                if (loadTime(st).isAfter(loadedBefore)) {
                    return;
                }
            } catch (SQLException e) {
                throw new IllegalStateException("lost the superuser login after reloading pg_hba.conf: " + e, e);
            }
            sleep(20);
        }
        log.warn("PostgreSQL did not report a configuration reload within {} ms", RELOAD_TIMEOUT_MILLIS);
    }

    private static OffsetDateTime loadTime(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT pg_conf_load_time()")) {
            rs.next();
            return rs.getObject(1, OffsetDateTime.class);
        }
    }

    private static String queryString(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private String tool(String name) {
        List<Path> candidates = new ArrayList<>();
        if (server.binDir() != null) {
            candidates.add(Path.of(server.binDir(), name));
        }
        // Debian/Ubuntu packages: the matching version first, then the newest
        Path debian = Path.of("/usr/lib/postgresql");
        candidates.add(debian.resolve(majorVersion + "/bin/" + name));
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                versions.sorted(Comparator.comparing(TestPostgres::versionOf).reversed())
                        .forEach(v -> candidates.add(v.resolve("bin").resolve(name)));
            } catch (IOException e) {
                log.debug("cannot list {}: {}", debian, e.toString());
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, name));
                }
            }
        }
        return candidates.stream()
                .filter(Files::isExecutable)
                .findFirst()
                .map(Path::toString)
                .orElse(null);
    }

    private static int versionOf(Path dir) {
        try {
            return Integer.parseInt(dir.getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A user name as pg_hba.conf wants it: plain when simple, else in double quotes. */
    private static String hbaName(String name) {
        if (name.matches("[a-z_][a-z0-9_]*")) {
            return name;
        }
        if (name.contains("\"") || name.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("user name not usable in pg_hba.conf: " + name);
        }
        return "\"" + name + "\"";
    }

    private static String ident(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static String literal(String value) {
        // standard_conforming_strings is on (the default since 9.1): only quotes need doubling
        return "'" + value.replace("'", "''") + "'";
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
