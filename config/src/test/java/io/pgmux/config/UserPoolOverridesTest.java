package io.pgmux.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code auth.users.<name>.pool}: a user's pool settings over the database's, over {@code pgmux.pool}. */
class UserPoolOverridesTest {
    private static final String LAYERS =
            """
            pgmux {
              pool { size = 30, query-wait-timeout = 10s }
              auth.users {
                reporting { password = x, pool { size = 3, query-timeout = 1s } }
                batch { password = x, pool { size = 30 } }
                app { password = x }
              }
              databases {
                appdb { host = db, pool { size = 10, mode = session, server-idle-timeout = 5m } }
                "*" { host = db, pool.mode = statement }
              }
            }
            """;

    @TempDir
    Path dir;

    @Test
    void userOverridesGoOverTheDatabaseWhichGoesOverTheDefaults() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(LAYERS);
        DatabaseConfig appdb = c.database("appdb").orElseThrow();

        PoolSettings reporting = c.poolFor(appdb, "reporting");
        assertEquals(3, reporting.size()); // user over database over defaults
        assertEquals(Duration.ofSeconds(1), reporting.queryTimeout()); // user over reference.conf
        assertEquals(PoolMode.SESSION, reporting.mode()); // database
        assertEquals(Duration.ofMinutes(5), reporting.serverIdleTimeout()); // database
        assertEquals(Duration.ofSeconds(10), reporting.queryWaitTimeout()); // the file's pgmux.pool
        assertEquals(Duration.ofHours(1), reporting.serverLifetime()); // reference.conf

        // a user setting the default's value still overrides the database
        assertEquals(30, c.poolFor(appdb, "batch").size());
        // no overrides, or no entry at all: the database's settings
        assertEquals(appdb.pool(), c.poolFor(appdb, "app"));
        assertEquals(appdb.pool(), c.poolFor(appdb, "stranger"));
        // the database's own settings are untouched
        assertEquals(10, appdb.pool().size());
    }

    @Test
    void userOverridesApplyToDatabasesOfTheFallbackEntry() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(LAYERS);
        PoolSettings sales = c.poolFor(c.database("sales").orElseThrow(), "reporting");
        assertEquals(3, sales.size());
        assertEquals(PoolMode.STATEMENT, sales.mode());
    }

    @Test
    void overridesKeepOnlyTheKeysTheUserSets() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(LAYERS);
        assertEquals(
                Set.of("size", "query-timeout"),
                c.auth().users().get("reporting").pool().orElseThrow().keys());
        assertEquals(Optional.empty(), c.auth().users().get("app").pool());
        assertEquals(
                Optional.empty(),
                ConfigLoader.fromString("pgmux.auth.users.app { password = x, pool {} }")
                        .auth()
                        .users()
                        .get("app")
                        .pool());
        assertEquals(Optional.empty(), new UserConfig("app", "x").pool());
    }

    @Test
    void overridesAreEqualHoweverTheValuesWereWritten() throws Exception {
        PgmuxConfig written = ConfigLoader.fromString(
                "pgmux.auth.users.app { password = x, pool { size = 3, mode = SESSION, query-timeout = 1000ms } }");
        PgmuxConfig strings = ConfigLoader.fromString(
                "pgmux.auth.users.app { password = x, pool { size = \"3\", mode = session, query-timeout = 1s } }");
        assertEquals(written.auth().users().get("app"), strings.auth().users().get("app"));
        assertEquals(
                "PoolOverrides[mode=session, query-timeout=1s, size=3]",
                written.auth().users().get("app").pool().orElseThrow().toString());
    }

    @Test
    void sizeIsValidatedLikeAPoolSetting() {
        assertProblems(
                "pgmux.auth.users.reporting { password = x, pool { size = 0 } }",
                "config:1: auth.users.reporting.pool.size must be >= 1, got 0");
    }

    /** Checked before the user is known, these two apply to pgmux as a whole: set for a user, they are refused. */
    @Test
    void globalOnlyKeysAreRefusedForAUser() {
        assertProblems(
                "pgmux.auth.users.reporting { password = x, pool { max-client-connections = 5, client-login-timeout = 1s,"
                        + " size = 0 } }",
                "config:1: auth.users.reporting.pool.max-client-connections applies to all clients of pgmux (it is"
                        + " checked before their database and user are known): set it in pgmux.pool, not here",
                "config:1: auth.users.reporting.pool.client-login-timeout applies to all clients of pgmux (it is"
                        + " checked before their database and user are known): set it in pgmux.pool, not here",
                "config:1: auth.users.reporting.pool.size must be >= 1, got 0");
    }

    @Test
    void globalOnlyKeysAreRefusedForADatabase() {
        assertProblems(
                "pgmux.databases.appdb { host = h, pool { max-client-connections = 5 } }",
                "config:1: databases.appdb.pool.max-client-connections applies to all clients of pgmux (it is"
                        + " checked before their database and user are known): set it in pgmux.pool, not here");
    }

    /** One limit per shared budget: a user cannot set its database's, nor a database its server users'. */
    @Test
    void budgetLimitsAreRefusedWhereTheyWouldNotBeTheBudgetsOwn() {
        assertProblems(
                "pgmux.auth.users.reporting { password = x, pool { max-db-connections = 5, max-user-connections = 2 } }",
                "config:1: auth.users.reporting.pool.max-db-connections limits a database over all its users: set it in"
                        + " pgmux.pool or databases.<db>.pool, not here");
        assertProblems(
                "pgmux.databases.appdb { host = h, pool { max-user-connections = 5, max-db-connections = 2 } }",
                "config:1: databases.appdb.pool.max-user-connections limits a server user over all databases: set it"
                        + " in pgmux.pool or auth.users.<user>.pool, not here");
    }

    @Test
    void everyBadValueIsReported() {
        assertProblems(
                """
                pgmux.auth.users.reporting {
                  password = x
                  pool {
                    mode = sometimes
                    query-timeout = -1s
                    server-lifetime = soon
                    min-size = 25
                  }
                }
                """,
                "config:4: auth.users.reporting.pool.mode must be one of session, transaction, statement,"
                        + " got \"sometimes\"",
                "config:6: auth.users.reporting.pool.server-lifetime must be a duration such as 30s, got \"soon\"",
                "config:7: auth.users.reporting.pool.min-size must not exceed pool.size (20), got 25",
                "config:5: auth.users.reporting.pool.query-timeout must be >= 0, got -1s");
    }

    @Test
    void unknownKeysNameFileAndLine() throws Exception {
        Path file = Files.writeString(
                dir.resolve("pgmux.conf"),
                "pgmux.auth.users {\n  reporting {\n    password = x\n    pool { sise = 3, mode = session }\n  }\n}\n");
        ConfigException e = assertThrows(
                ConfigException.class, () -> ConfigLoader.load(Optional.of(file), Map.of(), new Properties()));
        assertEquals(List.of(file + ":4: auth.users.reporting.pool.sise: unknown setting"), e.problems());
    }

    @Test
    void poolMustBeAnObject() {
        assertProblems(
                "pgmux.auth.users.reporting { password = x, pool = session }",
                "config:1: auth.users.reporting.pool must be an object { … }, got \"session\"");
    }

    @Test
    void overridesAreCheckedOverEveryDatabase() {
        assertProblems(
                """
                pgmux {
                  auth.users.reporting { password = x, pool.size = 3 }
                  databases.appdb { host = db, pool.min-size = 5 }
                  databases.other { host = db }
                }
                """,
                "auth.users.reporting.pool.min-size must not exceed pool.size (3), got 5"
                        + " (over databases.appdb.pool)");
    }

    @Test
    void aBadDefaultIsReportedOnceNotForEveryUser() {
        assertProblems(
                "pgmux { pool.size = 0, auth.users.reporting { password = x, pool.mode = session } }",
                "config:1: pool.size must be >= 1, got 0");
    }

    @Test
    void environmentSetsUserPoolKeys() throws Exception {
        Path file = Files.writeString(
                dir.resolve("pgmux.conf"),
                """
                pgmux.auth.users {
                  Reporting-Team { password = x, pool { size = 3, mode = session } }
                }
                pgmux.databases.appdb { host = db, pool.size = 10 }
                """);
        Map<String, String> env = Map.of(
                "PGMUX_AUTH_USERS_REPORTING_TEAM_POOL_SIZE", "2",
                "PGMUX_AUTH_USERS_REPORTING_TEAM_POOL_QUERY_WAIT_TIMEOUT", "5s",
                "PGMUX_AUTH_USERS_BATCH_PASSWORD", "y",
                "PGMUX_AUTH_USERS_BATCH_POOL_MIN_SIZE", "1");

        PgmuxConfig c = ConfigLoader.load(Optional.of(file), env, new Properties());

        DatabaseConfig appdb = c.database("appdb").orElseThrow();
        PoolSettings reporting = c.poolFor(appdb, "Reporting-Team");
        assertEquals(2, reporting.size()); // the environment over the file
        assertEquals(PoolMode.SESSION, reporting.mode()); // the file
        assertEquals(Duration.ofSeconds(5), reporting.queryWaitTimeout());
        PoolSettings batch = c.poolFor(appdb, "batch"); // an entry made by the environment
        assertEquals(1, batch.minSize());
        assertEquals(10, batch.size());
    }

    @Test
    void badEnvironmentValueNamesTheVariable() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.load(
                        Optional.empty(),
                        Map.of("PGMUX_AUTH_USERS_APP_PASSWORD", "x", "PGMUX_AUTH_USERS_APP_POOL_SIZE", "0"),
                        new Properties()));
        assertEquals(
                List.of("env PGMUX_AUTH_USERS_APP_POOL_SIZE: auth.users.app.pool.size must be >= 1, got 0"),
                e.problems());
    }

    @Test
    void unknownUserPoolVariableIsAProblem() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.load(
                        Optional.empty(), Map.of("PGMUX_AUTH_USERS_APP_POOL_SIZ", "3"), new Properties()));
        assertEquals(List.of("PGMUX_AUTH_USERS_APP_POOL_SIZ: no such setting"), e.problems());
    }

    @Test
    void describeShowsExactlyTheKeysAUserSets() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(LAYERS);

        String text = ConfigLoader.describe(c);

        assertTrue(
                text.contains("    reporting {\n        password = \"******\"\n        pool {\n          size = 3\n"
                        + "          query-timeout = 1s\n        }\n      }\n"),
                text);
        assertTrue(
                text.contains("      batch {\n        password = \"******\"\n        pool {\n          size = 30\n"),
                text);
        assertTrue(text.contains("      app {\n        password = \"******\"\n      }\n"), text);
        PgmuxConfig again = ConfigLoader.fromString(text);
        c.auth()
                .users()
                .forEach((name, user) ->
                        assertEquals(user.pool(), again.auth().users().get(name).pool(), name));
    }

    @Test
    void toStringShowsOverridesButNotThePassword() throws Exception {
        UserConfig reporting = ConfigLoader.fromString(LAYERS).auth().users().get("reporting");
        assertEquals(
                "UserConfig[name=reporting, password=******, kind=PLAIN,"
                        + " pool=Optional[PoolOverrides[query-timeout=1s, size=3]]]",
                reporting.toString());
    }

    @Test
    void poolSettingsReadBackFromTheConfigTheyWrite() throws Exception {
        PoolSettings pool = ConfigLoader.fromString(
                        "pgmux.pool { mode = statement, size = 7, server-lifetime = 1500ms, query-timeout = 2h,"
                                + " server-reset-query = \"\", client-idle-timeout = 0 }")
                .pool();
        assertEquals(pool, PoolSettings.from(pool.toConfig()));
    }

    private static void assertProblems(String hocon, String... expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.fromString(hocon));
        assertEquals(List.of(expected), e.problems(), e.getMessage());
    }
}
