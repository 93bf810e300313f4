package io.pgmux.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidationTest {
    @TempDir
    Path dir;

    @Test
    void poolSizeZero() {
        assertProblems("pgmux.pool.size = 0", "config:1: pool.size must be >= 1, got 0");
    }

    @Test
    void minSizeAboveSize() {
        assertProblems("pgmux.pool.min-size = 30", "config:1: pool.min-size must not exceed pool.size (20), got 30");
    }

    @Test
    void negativeDuration() {
        assertProblems(
                "pgmux.pool.query-wait-timeout = -5s", "config:1: pool.query-wait-timeout must be >= 0, got -5s");
    }

    @Test
    void badDuration() {
        assertProblems(
                "pgmux.pool.server-lifetime = soon",
                "config:1: pool.server-lifetime must be a duration such as 30s, got \"soon\"");
    }

    @Test
    void badAuthType() {
        assertProblems(
                "pgmux.auth.type = kerberos",
                "config:1: auth.type must be one of trust, plain, md5, scram-sha-256, got \"kerberos\"");
    }

    @Test
    void badPoolModeAndTlsMode() {
        assertProblems(
                "pgmux { pool.mode = sometimes, tls.server.mode = always }",
                "config:1: pool.mode must be one of session, transaction, statement, got \"sometimes\"",
                "config:1: tls.server.mode must be one of disable, allow, prefer, require, verify-ca, verify-full,"
                        + " got \"always\"");
    }

    @Test
    void unknownKeyNamesFileAndLine() throws Exception {
        Path file = Files.writeString(dir.resolve("pgmux.conf"), "pgmux {\n  pool {\n    siz = 10\n  }\n}\n");
        ConfigException e = assertThrows(
                ConfigException.class, () -> ConfigLoader.load(Optional.of(file), Map.of(), new Properties()));
        assertEquals(List.of(file + ":3: pool.siz: unknown setting"), e.problems());
    }

    @Test
    void wrongTypeNamesFileAndLine() throws Exception {
        Path file = Files.writeString(dir.resolve("pgmux.conf"), "pgmux {\n  listen.port = \"high\"\n  pool = 5\n}\n");
        ConfigException e = assertThrows(
                ConfigException.class, () -> ConfigLoader.load(Optional.of(file), Map.of(), new Properties()));
        assertEquals(
                List.of(
                        file + ":2: listen.port must be a whole number, got \"high\"",
                        file + ":3: pool must be an object { … }, got 5"),
                e.problems());
    }

    @Test
    void settingsOutsideThePgmuxBlockAreUnknown() {
        assertProblems("pool.size = 5", "config:1: pool: unknown setting (settings go inside pgmux { })");
    }

    @Test
    void nullWhereAValueIsNeeded() {
        assertProblems("pgmux.pool.size = null", "config:1: pool.size must be a whole number, got null");
    }

    @Test
    void severalProblemsAreReportedAtOnce() {
        assertProblems(
                """
                pgmux {
                  pool {
                    size = 0
                    query-timeout = -1s
                    siz = 3
                  }
                  auth.type = kerberos
                  listen.port = 70000
                  databases.appdb { host = "db", pool.min-size = -1 }
                }
                """,
                "config:7: auth.type must be one of trust, plain, md5, scram-sha-256, got \"kerberos\"",
                "config:5: pool.siz: unknown setting",
                "config:8: listen.port must be between 0 and 65535, got 70000",
                "config:3: pool.size must be >= 1, got 0",
                "config:4: pool.query-timeout must be >= 0, got -1s",
                "config:9: databases.appdb.pool.min-size must be >= 0, got -1");
    }

    @Test
    void databasePoolOverridesAreValidated() {
        assertProblems(
                "pgmux.databases.appdb { host = db, pool { size = 5, min-size = 8 } }",
                "config:1: databases.appdb.pool.min-size must not exceed pool.size (5), got 8");
    }

    @Test
    void databaseNeedsAHost() {
        assertProblems(
                "pgmux.databases.appdb { port = 5433 }",
                "config:1: databases.appdb.host must be set: every database entry names its server");
    }

    @Test
    void databaseKeysAreChecked() {
        assertProblems(
                "pgmux.databases.appdb { host = db, port = x, hostname = db, pool { sise = 1 } }",
                "config:1: databases.appdb.hostname: unknown setting",
                "config:1: databases.appdb.pool.sise: unknown setting",
                "config:1: databases.appdb.port must be a whole number, got \"x\"");
    }

    @Test
    void userEntriesTakeAPasswordAndPoolOverrides() {
        assertProblems(
                "pgmux.auth.users { app { password = x, pool_mode = session }, ops {} }",
                "config:1: auth.users.app.pool_mode: unknown setting",
                "config:1: auth.users.ops.password must be set");
    }

    @Test
    void adminDatabaseMustNotBeAConfiguredDatabase() {
        assertProblems(
                "pgmux.databases { pgmux { host = db }, pgbouncer { host = db } }",
                "config:1: databases.pgmux is also admin.database, which the admin console answers to; rename one of them",
                "config:1: databases.pgbouncer cannot be configured: the admin console answers to that name");
    }

    @Test
    void tlsTowardsClientsNeedsACertificate() {
        assertProblems(
                "pgmux.tls.client { mode = verify-ca, cert = \"/c.pem\" }",
                "tls.client.key must be set when tls.client.mode is verify-ca",
                "tls.client.ca must be set when tls.client.mode is verify-ca");
    }

    @Test
    void authQueryNeedsAQueryUser() {
        assertProblems(
                "pgmux.auth.query = \"SELECT usename, passwd FROM pg_shadow WHERE usename = $1\"",
                "auth.query-user must be set when auth.query is");
    }

    @Test
    void authQueryTakesTheUserNameAsParameter() {
        assertProblems(
                "pgmux.auth { query = \"SELECT usename, passwd FROM pg_shadow\", query-user = \"\" }",
                "config:1: auth.query must take the user name as parameter $1, e.g. \"SELECT usename, passwd FROM"
                        + " pg_shadow WHERE usename = $1\"",
                "config:1: auth.query-user must not be empty");
    }

    @Test
    void constructorsCheckTheirFields() throws Exception {
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class, () -> new ListenConfig("", 6432, 0));
        assertEquals(List.of("listen.host must be set", "listen.backlog must be >= 1, got 0"), e.problems());

        PoolSettings pool = ConfigLoader.fromString("").pool();
        InvalidSettingsException bad = assertThrows(
                InvalidSettingsException.class,
                () -> new PoolSettings(
                        pool.mode(),
                        2,
                        3,
                        0,
                        pool.reserveTimeout(),
                        1,
                        0,
                        0,
                        0,
                        Duration.ofSeconds(-1),
                        pool.serverLifetime(),
                        pool.serverConnectTimeout(),
                        pool.serverLoginRetry(),
                        "",
                        "",
                        pool.serverCheckDelay(),
                        pool.queryWaitTimeout(),
                        pool.clientIdleTimeout(),
                        pool.clientLoginTimeout(),
                        pool.idleTransactionTimeout(),
                        pool.queryTimeout()));
        assertEquals(
                List.of(
                        "pool.min-size must not exceed pool.size (2), got 3",
                        "pool.server-idle-timeout must be >= 0, got -1s"),
                bad.problems());
    }

    private static void assertProblems(String hocon, String... expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.fromString(hocon));
        assertEquals(List.of(expected), e.problems(), e.getMessage());
        assertEquals(String.join("\n", expected), e.getMessage());
    }
}
