package io.pgmux.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void defaultsMatchDesign() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString("");

        assertEquals(new ListenConfig("127.0.0.1", 6432, 4096), c.listen());
        assertEquals(new AdminConfig(List.of("pgmux"), "pgmux"), c.admin());
        assertEquals(new MetricsConfig(true, "127.0.0.1", 9930), c.metrics());
        assertEquals(Duration.ofSeconds(30), c.shutdownTimeout());
        assertEquals(256_000_000L, c.maxMessageSize());
        assertEquals(AuthType.SCRAM_SHA_256, c.auth().type());
        assertEquals(Map.of(), c.auth().users());
        assertEquals(Optional.empty(), c.auth().file());
        assertEquals(Optional.empty(), c.auth().query());
        assertEquals(Optional.empty(), c.auth().queryUser());
        assertEquals(Map.of(), c.databases());
        assertEquals(
                new TlsConfig(
                        new TlsConfig.ClientTls(TlsMode.DISABLE, Optional.empty(), Optional.empty(), Optional.empty()),
                        new TlsConfig.ServerTls(TlsMode.PREFER, Optional.empty())),
                c.tls());

        PoolSettings pool = c.pool();
        assertEquals(PoolMode.TRANSACTION, pool.mode());
        assertEquals(20, pool.size());
        assertEquals(0, pool.minSize());
        assertEquals(0, pool.reserveSize());
        assertEquals(Duration.ofSeconds(5), pool.reserveTimeout());
        assertEquals(10_000, pool.maxClientConnections());
        assertEquals(0, pool.maxDbConnections());
        assertEquals(0, pool.maxUserConnections());
        assertEquals(200, pool.maxPreparedStatements());
        assertEquals(Duration.ofMinutes(10), pool.serverIdleTimeout());
        assertEquals(Duration.ofHours(1), pool.serverLifetime());
        assertEquals(Duration.ofSeconds(15), pool.serverConnectTimeout());
        assertEquals(Duration.ofSeconds(1), pool.serverLoginRetry());
        assertEquals("DISCARD ALL", pool.serverResetQuery());
        assertEquals("SELECT 1", pool.serverCheckQuery());
        assertEquals(Duration.ofSeconds(30), pool.serverCheckDelay());
        assertEquals(Duration.ofMinutes(2), pool.queryWaitTimeout());
        assertEquals(Duration.ZERO, pool.clientIdleTimeout());
        assertEquals(Duration.ofSeconds(60), pool.clientLoginTimeout());
        assertEquals(Duration.ZERO, pool.idleTransactionTimeout());
        assertEquals(Duration.ZERO, pool.queryTimeout());
    }

    @Test
    void designExampleLoads() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(
                """
                pgmux {
                  auth.users { app { password = "secret" } }
                  databases {
                    appdb { host = "127.0.0.1", port = 5432, dbname = "appdb", pool { size = 10 } }
                    "*" { host = "127.0.0.1", port = 5432 }
                  }
                }
                """);
        assertEquals(10, c.databases().get("appdb").pool().size());
        assertEquals("secret", c.auth().users().get("app").password());
    }

    @Test
    void fileOverridesDefaults() throws Exception {
        Path file = write(
                """
                pgmux {
                  listen.port = 7432
                  pool { mode = session, size = 5, query-wait-timeout = 500ms, server-reset-query = "" }
                  auth { type = md5, query = "SELECT * FROM pgmux_lookup($1)", query-user = "pgmux_auth" }
                  tls.server { mode = verify-full, ca = "/etc/ssl/ca.pem" }
                }
                """);

        PgmuxConfig c = load(file, Map.of(), new Properties());

        assertEquals(7432, c.listen().port());
        assertEquals("127.0.0.1", c.listen().host());
        assertEquals(PoolMode.SESSION, c.pool().mode());
        assertEquals(5, c.pool().size());
        assertEquals(Duration.ofMillis(500), c.pool().queryWaitTimeout());
        assertEquals("", c.pool().serverResetQuery());
        assertEquals(Duration.ofMinutes(10), c.pool().serverIdleTimeout());
        assertEquals(AuthType.MD5, c.auth().type());
        assertEquals(Optional.of("pgmux_auth"), c.auth().queryUser());
        assertEquals(TlsMode.VERIFY_FULL, c.tls().server().mode());
        assertEquals(Optional.of(Path.of("/etc/ssl/ca.pem")), c.tls().server().ca());
    }

    @Test
    void environmentOverridesFile() throws Exception {
        Path file = write("pgmux { pool { size = 30, min-size = 3 }, shutdown-timeout = 1m }");
        Map<String, String> env = Map.of(
                "PGMUX_POOL_SIZE", "50",
                "PGMUX_POOL_MIN_SIZE", "2",
                "PGMUX_SHUTDOWN_TIMEOUT", "5s",
                "PGMUX_LISTEN_PORT", "7000",
                "PGMUX_METRICS_ENABLED", "false",
                "PGMUX_MAX_MESSAGE_SIZE", "1MiB",
                "PGMUX_AUTH_TYPE", "trust");

        PgmuxConfig c = load(file, env, new Properties());

        assertEquals(50, c.pool().size());
        assertEquals(2, c.pool().minSize());
        assertEquals(Duration.ofSeconds(5), c.shutdownTimeout());
        assertEquals(7000, c.listen().port());
        assertFalse(c.metrics().enabled());
        assertEquals(1 << 20, c.maxMessageSize());
        assertEquals(AuthType.TRUST, c.auth().type());
    }

    /** Text in place of a file (as {@code pgmux demo} has) takes the same overrides as a file does. */
    @Test
    void environmentAndPropertiesOverrideText() throws Exception {
        String text = "pgmux { listen.port = 6432, pool.size = 30, databases { demo { host = \"127.0.0.1\" } } }";
        Properties props = new Properties();
        props.setProperty("pgmux.pool.size", "40");
        Map<String, String> env = Map.of(
                "PGMUX_LISTEN_PORT", "7000",
                "PGMUX_METRICS_PORT", "9931",
                "PGMUX_POOL_SIZE", "50",
                "PGMUX_DATABASES_DEMO_PORT", "5433");

        PgmuxConfig c = ConfigLoader.fromString(text, env, props);

        assertEquals(7000, c.listen().port());
        assertEquals(9931, c.metrics().port());
        assertEquals(40, c.pool().size(), "a system property wins over the environment");
        assertEquals(5433, c.database("demo").orElseThrow().port());
        assertEquals(
                6432,
                ConfigLoader.fromString(text, Map.of(), new Properties())
                        .listen()
                        .port());
    }

    @Test
    void environmentListsAreCommaSeparated() throws Exception {
        PgmuxConfig c = load(null, Map.of("PGMUX_ADMIN_USERS", "pgmux, ops"), new Properties());
        assertEquals(List.of("pgmux", "ops"), c.admin().users());
    }

    @Test
    void systemPropertyWinsOverEnvironment() throws Exception {
        Path file = write("pgmux.pool.size = 30");
        Properties props = new Properties();
        props.setProperty("pgmux.pool.size", "70");
        props.setProperty("pgmux.admin.users", "a,b");
        props.setProperty("user.home", "/root"); // not ours, ignored

        PgmuxConfig c = load(file, Map.of("PGMUX_POOL_SIZE", "50"), props);

        assertEquals(70, c.pool().size());
        assertEquals(List.of("a", "b"), c.admin().users());
    }

    @Test
    void environmentMatchesFileDatabasesCaseInsensitively() throws Exception {
        Path file = write(
                """
                pgmux.databases {
                  app-db { host = "db1" }
                  app { host = "db2" }
                }
                pgmux.auth.users { Alice { password = "x" } }
                """);
        Map<String, String> env = Map.of(
                "PGMUX_DATABASES_APP_DB_PORT", "5433",
                "PGMUX_DATABASES_APP_DB_POOL_MIN_SIZE", "4",
                "PGMUX_DATABASES_APP_USER", "svc",
                "PGMUX_AUTH_USERS_ALICE_PASSWORD", "from-env");

        PgmuxConfig c = load(file, env, new Properties());

        assertEquals(5433, c.databases().get("app-db").port());
        assertEquals(4, c.databases().get("app-db").pool().minSize());
        assertEquals(Optional.of("svc"), c.databases().get("app").user());
        assertEquals(5432, c.databases().get("app").port());
        assertEquals("from-env", c.auth().users().get("Alice").password());
    }

    @Test
    void environmentCreatesDatabaseEntries() throws Exception {
        Map<String, String> env = Map.of(
                "PGMUX_DATABASES_ORDERS_HOST", "pg.internal",
                "PGMUX_DATABASES_ORDERS_DBNAME", "orders_prod",
                "PGMUX_DATABASES_ORDERS_PASSWORD", "pw",
                "PGMUX_AUTH_USERS_APP_PASSWORD", "secret");

        PgmuxConfig c = load(null, env, new Properties());

        DatabaseConfig orders = c.databases().get("orders");
        assertEquals("pg.internal", orders.host());
        assertEquals(5432, orders.port());
        assertEquals("orders_prod", orders.dbname());
        assertEquals(Optional.of("pw"), orders.password());
        assertEquals("secret", c.auth().users().get("app").password());
    }

    @Test
    void unknownEnvironmentVariableIsAProblem() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> load(null, Map.of("PGMUX_POOL_SIZ", "5", "PGMUX_DATABASES_X_HOSTNAME", "h"), new Properties()));
        assertEquals(
                List.of("PGMUX_DATABASES_X_HOSTNAME: no such setting", "PGMUX_POOL_SIZ: no such setting"),
                e.problems());
    }

    @Test
    void launcherAndTestVariablesAreNotSettings() throws Exception {
        Map<String, String> env = Map.of(
                "PGMUX_TEST_PG_URL", "postgresql://x",
                "PGMUX_OPTS", "-x",
                "PGMUX_JAVA_OPTS", "-Xmx1g",
                "PGMUX_HOME", "/opt/pgmux",
                "PATH", "/bin");
        assertEquals(ConfigLoader.fromString(""), load(null, env, new Properties()));
    }

    @Test
    void badEnvironmentValueNamesTheVariable() {
        ConfigException e = assertThrows(
                ConfigException.class, () -> load(null, Map.of("PGMUX_POOL_SIZE", "lots"), new Properties()));
        assertEquals(List.of("env PGMUX_POOL_SIZE: pool.size must be a whole number, got \"lots\""), e.problems());
    }

    @Test
    void fileSubstitutionsReadTheGivenEnvironment() throws Exception {
        Path file = write("pgmux.auth.users.app.password = ${?APP_PASSWORD}");
        PgmuxConfig c = load(file, Map.of("APP_PASSWORD", "s3cret"), new Properties());
        assertEquals("s3cret", c.auth().users().get("app").password());
    }

    @Test
    void missingFileIsAProblem() {
        ConfigException e =
                assertThrows(ConfigException.class, () -> load(dir.resolve("nope.conf"), Map.of(), new Properties()));
        assertTrue(e.getMessage().contains("nope.conf: cannot read"), e.getMessage());
    }

    @Test
    void syntaxErrorNamesFileAndLine() throws Exception {
        Path file = write("pgmux {\n  pool {\n    size = \n");
        ConfigException e = assertThrows(ConfigException.class, () -> load(file, Map.of(), new Properties()));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
    }

    @Test
    void fromConfigLayersOverReference() throws Exception {
        PgmuxConfig c = ConfigLoader.fromConfig(
                com.typesafe.config.ConfigFactory.parseString("pgmux.pool.size = 3, akka.loglevel = INFO"));
        assertEquals(3, c.pool().size());
        assertEquals(0, c.pool().minSize());
    }

    private PgmuxConfig load(Path file, Map<String, String> env, Properties props) throws ConfigException {
        return ConfigLoader.load(Optional.ofNullable(file), env, props);
    }

    private Path write(String hocon) throws IOException {
        Path file = Files.createTempFile(dir, "pgmux", ".conf");
        return Files.writeString(file, hocon);
    }
}
