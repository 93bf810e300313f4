package io.pgmux.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgmux.protocol.message.ParameterStatus;
import io.pgmux.session.SessionState;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How a client's session starts and the ParameterStatus messages that end its login, worked out once per pair of
 * (server defaults of its pool, startup parameters) and shared by every client that logs in with that pair: a
 * connection storm repeats the same few pairs thousands of times a second. Both maps are immutable (the pool keeps
 * the first server's report, {@code StartupMessage} shares its parameter maps), so a pair stays valid for good.
 */
final class LoginTemplate {
    /** Settings PostgreSQL reports that a client may set at startup and sees as it asked. */
    private static final List<String> CLIENT_REPORTED = List.of(
            "application_name",
            "client_encoding",
            "DateStyle",
            "IntervalStyle",
            "TimeZone",
            "standard_conforming_strings");

    /** Beyond this many distinct pairs (say, an application name per process), the cache starts over. */
    private static final int MAX_TEMPLATES = 10_000;

    private static final Map<Key, LoginTemplate> TEMPLATES = new ConcurrentHashMap<>();

    private record Key(Map<String, String> serverDefaults, Map<String, String> startup) {}

    /** Never handed to a client: {@link #session()} gives each a fresh copy. */
    private final SessionState start;
    /** The encoded ParameterStatus messages, in case-insensitive name order. */
    private final byte[] parameterStatus;

    private LoginTemplate(Map<String, String> serverDefaults, Map<String, String> startup) {
        start = new SessionState(serverDefaults, startup);
        Map<String, String> reported = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        reported.putAll(serverDefaults);
        for (String name : CLIENT_REPORTED) {
            String value = start.wanted(name);
            if (value != null && reported.containsKey(name)) {
                reported.put(name, value);
            }
        }
        ByteBuf out = Unpooled.buffer(512);
        reported.forEach((name, value) -> new ParameterStatus(name, value).encode(out));
        parameterStatus = new byte[out.readableBytes()];
        out.readBytes(parameterStatus);
    }

    /** The template for a client of a pool whose servers report {@code serverDefaults}. */
    static LoginTemplate of(Map<String, String> serverDefaults, Map<String, String> startup) {
        Key key = new Key(serverDefaults, startup);
        LoginTemplate known = TEMPLATES.get(key);
        if (known != null) {
            return known;
        }
        if (TEMPLATES.size() >= MAX_TEMPLATES) {
            TEMPLATES.clear();
        }
        return TEMPLATES.computeIfAbsent(key, k -> new LoginTemplate(k.serverDefaults(), k.startup()));
    }

    /** A session of the client's own, as it starts. */
    SessionState session() {
        return start.fresh();
    }

    /** Writes the ParameterStatus messages the client sees at login. */
    void writeParameterStatus(ByteBuf out) {
        out.writeBytes(parameterStatus);
    }
}
