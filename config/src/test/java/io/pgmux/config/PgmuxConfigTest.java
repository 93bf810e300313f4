package io.pgmux.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PgmuxConfigTest {
    @Test
    void databasePoolOverridesMergeOverTheGlobalPool() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(
                """
                pgmux {
                  pool { size = 30, query-wait-timeout = 10s }
                  databases {
                    appdb { host = "10.0.0.5", pool { size = 10, mode = session } }
                    other { host = "10.0.0.6" }
                  }
                }
                """);

        PoolSettings appdb = c.databases().get("appdb").pool();
        assertEquals(10, appdb.size());
        assertEquals(PoolMode.SESSION, appdb.mode());
        assertEquals(Duration.ofSeconds(10), appdb.queryWaitTimeout()); // from the file's global pool
        assertEquals(Duration.ofMinutes(10), appdb.serverIdleTimeout()); // from reference.conf
        assertEquals(c.pool(), c.databases().get("other").pool());
    }

    @Test
    void databaseEntriesDefaultDbnameAndPort() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(
                "pgmux.databases.appdb { host = db, port = 6543, dbname = app_prod, user = svc, password = pw }\n"
                        + "pgmux.databases.reports { host = db }");
        assertEquals(
                new DatabaseConfig("appdb", "db", 6543, "app_prod", Optional.of("svc"), Optional.of("pw"), c.pool()),
                c.databases().get("appdb"));
        assertEquals(
                new DatabaseConfig("reports", "db", 5432, "reports", Optional.empty(), Optional.empty(), c.pool()),
                c.databases().get("reports"));
    }

    @Test
    void starEntryIsTheFallbackForOtherNames() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(
                "pgmux.databases { appdb { host = a }, \"*\" { host = b, port = 5433, pool.size = 4 } }");

        assertEquals("a", c.database("appdb").orElseThrow().host());
        DatabaseConfig sales = c.database("sales").orElseThrow();
        assertEquals("sales", sales.name());
        assertEquals("sales", sales.dbname());
        assertEquals("b", sales.host());
        assertEquals(5433, sales.port());
        assertEquals(4, sales.pool().size());
    }

    @Test
    void withoutStarEntryUnknownNamesHaveNoDatabase() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString("pgmux.databases.appdb.host = a");
        assertEquals(Optional.empty(), c.database("sales"));
    }

    @Test
    void adminConsoleAnswersToItsDatabaseAndToPgbouncer() throws Exception {
        AdminConfig admin =
                ConfigLoader.fromString("pgmux.admin.database = console").admin();
        assertTrue(admin.isAdminDatabase("console"));
        assertTrue(admin.isAdminDatabase("pgbouncer"));
        assertFalse(admin.isAdminDatabase("pgmux"));
    }

    @Test
    void enumsUseTheirConfigNames() {
        assertEquals("scram-sha-256", AuthType.SCRAM_SHA_256.configName());
        assertEquals(AuthType.SCRAM_SHA_256, AuthType.parse("scram-sha-256"));
        assertEquals(TlsMode.VERIFY_FULL, TlsMode.parse("verify-full"));
        assertEquals("verify-ca", TlsMode.VERIFY_CA.configName());
        assertEquals(PoolMode.STATEMENT, PoolMode.parse("statement"));
    }
}
