package io.pgmux.load;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.message.Describe;
import io.pgmux.protocol.message.Execute;
import io.pgmux.protocol.message.Parse;
import io.pgmux.protocol.message.Query;
import io.pgmux.protocol.message.Sync;
import io.pgmux.protocol.message.TargetKind;
import io.pgmux.protocol.message.Wire;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** How a statement goes on the wire, as pgbench's {@code -M simple | extended | prepared}. */
public enum QueryProtocol {
    /** One Query message. */
    SIMPLE,
    /** Unnamed Parse, Bind, Describe portal, Execute, Sync every time (libpq's PQexecParams). */
    EXTENDED,
    /** A named Parse once per connection, then Bind, Describe portal, Execute, Sync (libpq's PQexecPrepared). */
    PREPARED;

    /**
     * Writes one statement, ending in Sync or a Query, so that exactly one ReadyForQuery answers it.
     *
     * @param prepared this connection's statement names; PREPARED adds to it
     */
    void write(Workload.Call call, Map<Workload.Statement, String> prepared, ByteBuf out) {
        switch (this) {
            case SIMPLE -> new Query(call.inlined()).encode(out);
            case EXTENDED -> {
                new Parse("", call.statement().sql(), List.of()).encode(out);
                writeExecution("", call.parameters(), out);
            }
            case PREPARED -> {
                String name = prepared.get(call.statement());
                if (name == null) {
                    name = "P_" + prepared.size();
                    prepared.put(call.statement(), name);
                    new Parse(name, call.statement().sql(), List.of()).encode(out);
                }
                writeExecution(name, call.parameters(), out);
            }
        }
    }

    private static void writeExecution(String statement, String[] parameters, ByteBuf out) {
        writeBind(statement, parameters, out);
        new Describe(TargetKind.PORTAL, "").encode(out);
        new Execute("", 0).encode(out);
        Sync.INSTANCE.encode(out);
    }

    /** Bind of the unnamed portal: text parameters, text results. */
    private static void writeBind(String statement, String[] parameters, ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.BIND);
        Wire.writeCString(out, "");
        Wire.writeCString(out, statement);
        out.writeShort(0); // all parameters in text format
        out.writeShort(parameters.length);
        for (String p : parameters) {
            byte[] bytes = p.getBytes(StandardCharsets.UTF_8);
            out.writeInt(bytes.length).writeBytes(bytes);
        }
        out.writeShort(0); // all results in text format
        Wire.end(out, lengthIndex);
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static QueryProtocol parse(String text) {
        for (QueryProtocol p : values()) {
            if (p.label().equals(text)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown protocol \"" + text + "\" (simple, extended, prepared)");
    }
}
