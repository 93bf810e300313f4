package io.pgmux.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DescribeTest {
    private static final String CONFIG =
            """
            pgmux {
              pool.size = 30
              auth.users { app { password = "hunter2" }, "ops team" { password = "md5%s" } }
              databases {
                appdb { host = "db", user = "svc", password = "dbsecret", pool { size = 10, query-timeout = 500ms } }
                "*" { host = "db" }
              }
            }
            """
                    .formatted("0123456789abcdef".repeat(2));

    @Test
    void describeMasksPasswords() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(CONFIG);

        String text = ConfigLoader.describe(c);

        assertFalse(text.contains("hunter2"), text);
        assertFalse(text.contains("dbsecret"), text);
        assertFalse(text.contains("0123456789abcdef"), text);
        assertTrue(text.contains("app {\n        password = \"******\"\n"), text);
        assertFalse(c.databases().get("appdb").toString().contains("dbsecret"));
    }

    @Test
    void describeWritesEffectiveSettingsWithReferenceKeys() throws Exception {
        String text = ConfigLoader.describe(ConfigLoader.fromString(CONFIG));

        assertTrue(text.startsWith("pgmux {\n  listen {\n    host = \"127.0.0.1\"\n"), text);
        assertTrue(text.contains("\n  max-message-size = 256MB\n"), text);
        assertTrue(text.contains("\n    max-client-connections = 10000\n"), text);
        assertTrue(text.contains("\n    server-idle-timeout = 10m\n"), text);
        assertTrue(text.contains("\n    type = scram-sha-256\n"), text);
        // a database's pool shows only what it overrides
        assertTrue(text.contains("      pool {\n        size = 10\n        query-timeout = 500ms\n      }\n"), text);
    }

    @Test
    void describedSettingsLoadBackToTheSameConfig() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(
                "pgmux { pool.mode = session, admin.users = [a, b], databases.x { host = h, pool.size = 3 } }");
        assertEquals(c, ConfigLoader.fromString(ConfigLoader.describe(c)));
    }

    @Test
    void settingsAreFlatKeysWithValuesWrittenAsDescribeWritesThem() throws Exception {
        PgmuxConfig c = ConfigLoader.fromString(CONFIG + "pgmux { max-message-size = 1MiB, auth.query-user = svc }");

        Map<String, String> settings = ConfigLoader.settings(c);

        assertEquals("1MiB", settings.get("max-message-size"));
        assertEquals("10m", settings.get("pool.server-idle-timeout"));
        assertEquals("30", settings.get("pool.size"));
        assertEquals("scram-sha-256", settings.get("auth.type"));
        assertEquals("127.0.0.1", settings.get("listen.host"), "strings unquoted");
        assertEquals("[\"pgmux\"]", settings.get("admin.users"));
        assertEquals("svc", settings.get("auth.query-user"));
        assertTrue(settings.containsKey("auth.query"));
        assertEquals(null, settings.get("auth.query"), "unset is null");
        assertEquals("disable", settings.get("tls.client.mode"));
        assertFalse(settings.keySet().stream().anyMatch(k -> k.startsWith("databases") || k.startsWith("auth.users")));
        // the same text as pgmux check writes
        String text = ConfigLoader.describe(c);
        assertTrue(text.contains("\n  max-message-size = " + settings.get("max-message-size") + "\n"), text);
        assertTrue(
                text.contains("\n    server-idle-timeout = " + settings.get("pool.server-idle-timeout") + "\n"), text);
    }
}
