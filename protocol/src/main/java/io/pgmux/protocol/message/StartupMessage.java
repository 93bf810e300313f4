package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.ProtocolException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The client's first real message: protocol version and parameters such as user and database. */
public record StartupMessage(int protocolVersion, Map<String, String> parameters) implements StartupPacket {
    public static final int PROTOCOL_3_0 = 3 << 16;
    public static final int PROTOCOL_3_2 = (3 << 16) | 2;

    public StartupMessage {
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    static StartupMessage decode(int protocolVersion, ByteBuf body) {
        Map<String, String> parameters = new LinkedHashMap<>();
        while (true) {
            String name = Wire.readCString(body);
            if (name.isEmpty()) {
                break;
            }
            // Thousands of clients send the same few names and values (user, database, client_encoding, ...) and keep
            // them for their whole connection: one copy of each is enough.
            if (parameters.put(name.intern(), Wire.readCString(body).intern()) != null) {
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
