package io.pgmux.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
