package io.pgmux.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SessionStateTest {
    private static final Map<String, String> DEFAULTS =
            Map.of("application_name", "", "TimeZone", "UTC", "DateStyle", "ISO, MDY", "server_version", "17.5");

    private static ServerSettings freshServer() {
        ServerSettings server = new ServerSettings();
        server.putAll(DEFAULTS);
        return server;
    }

    @Test
    void aServerWithTheClientsSettingsNeedsNoSync() {
        SessionState session = new SessionState(DEFAULTS, Map.of("user", "app"));

        assertNull(session.syncCommand(freshServer()));
    }

    @Test
    void settingsTheClientAskedForAreSetAndUnreportedOnesRememberedOnTheServer() {
        SessionState session = new SessionState(DEFAULTS, Map.of("TimeZone", "Europe/Paris", "work_mem", "8MB"));
        ServerSettings server = freshServer();

        String sync = session.syncCommand(server);

        assertTrue(sync.contains("set_config(E'TimeZone', E'Europe/Paris', false)"), sync);
        assertTrue(sync.contains("set_config(E'work_mem', E'8MB', false)"), sync);
        assertEquals("8MB", server.get("work_mem"));
        // The reported one comes back as ParameterStatus; until then the server still differs.
        server.put("TimeZone", "Europe/Paris");
        assertNull(session.syncCommand(server));
    }

    @Test
    void aServerThatMatchedOnceIsComparedAgainAfterAnyChange() {
        SessionState first = new SessionState(DEFAULTS, Map.of("application_name", "a"));
        SessionState second = new SessionState(DEFAULTS, Map.of("application_name", "a"));
        ServerSettings server = freshServer();
        server.put("application_name", "a");
        assertNull(first.syncCommand(server));
        // Another client with the same settings: nothing to do either.
        assertNull(second.syncCommand(server));

        server.put("TimeZone", "Asia/Tokyo"); // e.g. a client SET it in its transaction

        assertTrue(second.syncCommand(server).contains("set_config(E'TimeZone', E'UTC', false)"));
    }

    /**
     * Idle clients cost little memory: those that want the same settings share one immutable map, whether they asked
     * for them at startup or changed to them later, and a server that matched one of them matches them all.
     */
    @Test
    void clientsThatWantTheSameSettingsShareOneMap() {
        SessionState first = new SessionState(DEFAULTS, Map.of("user", "a", "application_name", "web"));
        SessionState second =
                new SessionState(DEFAULTS, new HashMap<>(Map.of("user", "b", "application_name", new String("web"))));
        SessionState other = new SessionState(DEFAULTS, Map.of("user", "a", "application_name", "batch"));

        assertSame(first.wantedSnapshot(), second.wantedSnapshot());
        assertNotEquals(first.wantedSnapshot(), other.wantedSnapshot());
        assertThrows(UnsupportedOperationException.class, () -> first.wantedSnapshot()
                .put("TimeZone", "UTC"));

        ServerSettings server = freshServer();
        server.put("application_name", "web");
        assertNull(first.syncCommand(server));
        assertTrue(server.matches(second.wantedSnapshot()), "the second client needs no comparison either");

        SessionState changed = new SessionState(DEFAULTS, Map.of());
        changed.onParameterStatus("TimeZone", "Asia/Tokyo");
        SessionState asked = new SessionState(DEFAULTS, Map.of("TimeZone", "Asia/Tokyo"));
        assertSame(asked.wantedSnapshot(), changed.wantedSnapshot(), "a client that SET it shares the map too");
    }

    @Test
    void unreportedSettingsOfAPreviousClientAreReset() {
        SessionState session = new SessionState(DEFAULTS, Map.of());
        ServerSettings server = freshServer();
        server.put("work_mem", "64MB");

        assertEquals("RESET work_mem", session.syncCommand(server));
        assertNull(server.get("work_mem"));
        assertNull(session.syncCommand(server));
    }

    @Test
    void aSettingTheClientChangesIsWantedFromThenOn() {
        SessionState session = new SessionState(DEFAULTS, Map.of());
        ServerSettings server = freshServer();
        assertNull(session.syncCommand(server));

        session.onParameterStatus("timezone", "Asia/Tokyo");

        assertTrue(session.syncCommand(server).contains("E'Asia/Tokyo'"));
        assertEquals("", session.applicationName());
    }
}
