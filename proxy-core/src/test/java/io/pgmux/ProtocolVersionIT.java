package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Protocol versions and startup parameters: 3.2 (PostgreSQL 18's long cancel keys) works with
 * pgmux whatever the server speaks, newer minors and unknown {@code _pq_.} options get a
 * NegotiateProtocolVersion and carry on, and the startup parameters clients commonly send become
 * part of the session.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProtocolVersionIT {
    private static final String DB = "it_protocol";
    private static final String USER = "it_protocol_user";
    private static final String PASSWORD = "it-protocol-pw";

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        return "auth { type = plain, users { " + user(USER, PASSWORD) + " } }\n" + "databases { " + database(DB, pg, "")
                + " }";
    });

    /** A logged-in raw client and what it read during login. */
    private record Login(WireClient client, List<WireClient.Message> messages) {
        WireClient.Message first(char type) {
            return messages.stream()
                    .filter(m -> m.type() == type)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no " + type + " in " + messages));
        }

        boolean has(char type) {
            return messages.stream().anyMatch(m -> m.type() == type);
        }
    }

    private static Login login(int version, Map<String, String> extra) throws IOException {
        WireClient client = WireClient.connect(pgmux.proxy().port());
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", USER);
        parameters.put("database", DB);
        parameters.putAll(extra);
        client.send(WireClient.startup(version, parameters));
        List<WireClient.Message> messages = new java.util.ArrayList<>();
        while (true) {
            WireClient.Message m = client.read();
            messages.add(m);
            if (m.type() == 'R' && m.intAt(0) == 3) {
                client.sendTyped('p', WireClient.cstring(PASSWORD));
            } else if (m.type() == 'E') {
                throw new AssertionError("login failed: " + m.fields());
            } else if (m.type() == 'Z') {
                return new Login(client, messages);
            }
        }
    }

    private static String show(WireClient client, String setting) throws IOException {
        client.query("SHOW " + setting);
        for (WireClient.Message m : client.readUntilReady()) {
            if (m.type() == 'D') {
                int length = m.intAt(2);
                return new String(m.body(), 6, length, StandardCharsets.UTF_8);
            }
            if (m.type() == 'E') {
                throw new AssertionError("SHOW " + setting + " failed: " + m.fields());
            }
        }
        throw new AssertionError("no row for SHOW " + setting);
    }

    @Test
    void protocol32LoginGetsALongCancelKeyAndNoNegotiation() throws IOException {
        Login login = login((3 << 16) | 2, Map.of());
        try (WireClient client = login.client()) {
            assertTrue(!login.has('v'), "3.2 is spoken as is: " + login.messages());
            assertEquals(4 + 32, login.first('K').body().length, "a 32-byte secret in BackendKeyData");
            assertEquals("1", show(client, "server_version_num").substring(0, 1));
        }
    }

    @Test
    void protocol30LoginKeepsFourByteKeys() throws IOException {
        Login login = login(3 << 16, Map.of());
        try (WireClient ignored = login.client()) {
            assertTrue(!login.has('v'));
            assertEquals(8, login.first('K').body().length);
        }
    }

    @Test
    void newerMinorAndUnknownOptionsAreNegotiatedDown() throws IOException {
        Login login = login((3 << 16) | 5, Map.of("_pq_.frobnicate", "on"));
        try (WireClient client = login.client()) {
            WireClient.Message negotiate = login.first('v');
            assertEquals(2, negotiate.intAt(0), "newest minor version pgmux speaks");
            assertEquals(1, negotiate.intAt(4), "one unrecognized option");
            String option = new String(negotiate.body(), 8, negotiate.body().length - 9, StandardCharsets.UTF_8);
            assertEquals("_pq_.frobnicate", option);
            assertEquals("on", show(client, "standard_conforming_strings"));
        }
    }

    @Test
    void commonStartupParametersBecomePartOfTheSession() throws IOException {
        Map<String, String> startup = new LinkedHashMap<>();
        startup.put("application_name", "startup-app");
        startup.put("extra_float_digits", "2");
        startup.put("DateStyle", "ISO, DMY");
        startup.put("search_path", "pg_catalog");
        startup.put("options", "-c statement_timeout=1500 --lock-timeout=700");
        Login login = login(3 << 16, startup);
        try (WireClient client = login.client()) {
            assertEquals("startup-app", show(client, "application_name"));
            assertEquals("2", show(client, "extra_float_digits"));
            assertEquals("ISO, DMY", show(client, "DateStyle"));
            assertEquals("pg_catalog", show(client, "search_path"));
            assertEquals("1500ms", show(client, "statement_timeout"));
            assertEquals("700ms", show(client, "lock_timeout"));
        }
    }

    @Test
    void cancelWithA32ByteKeyCancelsTheRunningQuery() throws Exception {
        Login login = login((3 << 16) | 2, Map.of());
        try (WireClient client = login.client()) {
            byte[] key = login.first('K').body();
            int pid = login.first('K').intAt(0);
            byte[] secret = Arrays.copyOfRange(key, 4, key.length);
            client.query("SELECT pg_sleep(20)");
            Await.pause(300);
            try (WireClient canceller = WireClient.connect(pgmux.proxy().port())) {
                canceller.send(WireClient.untyped(new WireClient.Bytes()
                        .int32(80877102)
                        .int32(pid)
                        .bytes(secret)
                        .build()));
            }
            long start = System.nanoTime();
            List<WireClient.Message> reply = client.readUntilReady();
            WireClient.Message error = reply.stream()
                    .filter(m -> m.type() == 'E')
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no error in " + reply));
            assertEquals("57014", error.fields().get('C'));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10));
        }
    }
}
