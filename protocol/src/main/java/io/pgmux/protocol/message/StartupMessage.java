package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.ProtocolException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The client's first real message: protocol version and parameters such as user and database. */
public record StartupMessage(int protocolVersion, Map<String, String> parameters) implements StartupPacket {
    public static final int PROTOCOL_3_0 = 3 << 16;
    public static final int PROTOCOL_3_2 = (3 << 16) | 2;

    /**
     * Parameter maps as immutable copies, one per distinct content: thousands of clients send the same few (user,
     * database, client_encoding, application_name) and keep them for their whole connection, so they share one.
     */
    private static final Map<Map<String, String>, Map<String, String>> SHARED = new ConcurrentHashMap<>();

    /** Beyond this many distinct maps (say, an application name per process), new ones are not shared. */
    private static final int MAX_SHARED = 10_000;

    public StartupMessage {
        parameters = shared(parameters);
    }

    private static Map<String, String> shared(Map<String, String> parameters) {
        Map<String, String> known = SHARED.get(parameters);
        if (known != null) {
            return known;
        }
        Map<String, String> copy = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        if (SHARED.size() >= MAX_SHARED) {
            return copy;
        }
        Map<String, String> raced = SHARED.putIfAbsent(copy, copy);
        return raced != null ? raced : copy;
    }

    static StartupMessage decode(int protocolVersion, ByteBuf body) {
        Map<String, String> parameters = new LinkedHashMap<>();
        while (true) {
            String name = Wire.readCString(body);
            if (name.isEmpty()) {
                break;
            }
            if (parameters.put(name, Wire.readCString(body)) != null) {
                throw new ProtocolException("invalid startup packet: parameter \"%s\" given twice", name);
            }
        }
        Wire.expectEnd(body, "StartupMessage");
        return new StartupMessage(protocolVersion, parameters);
    }

    public int majorVersion() {
        return protocolVersion >>> 16;
    }

    public int minorVersion() {
        return protocolVersion & 0xffff;
    }

    /** The user name, or null when the client sent none. */
    public String user() {
        return parameters.get("user");
    }

    /** The database name; PostgreSQL defaults it to the user name. */
    public String database() {
        String db = parameters.get("database");
        return db == null || db.isEmpty() ? user() : db;
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out);
        out.writeInt(protocolVersion);
        parameters.forEach((name, value) -> {
            Wire.writeCString(out, name);
            Wire.writeCString(out, value);
        });
        out.writeByte(0);
        Wire.end(out, lengthIndex);
    }
}
