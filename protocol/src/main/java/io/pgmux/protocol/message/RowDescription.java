package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import java.util.ArrayList;
import java.util.List;

/** Describes the columns of the rows that follow. */
public record RowDescription(List<Column> columns) implements BackendMessage {
    public static final int TEXT_OID = 25;
    public static final int INT8_OID = 20;
    public static final int INT4_OID = 23;

    /** One column; {@code format} 0 is text, 1 binary. */
    public record Column(
            String name,
            int tableOid,
            short attributeNumber,
            int typeOid,
            short typeSize,
            int typeModifier,
            short format) {
        /** A text-format column not taken from a table, as the admin console sends. */
        public static Column text(String name) {
            return new Column(name, 0, (short) 0, TEXT_OID, (short) -1, -1, (short) 0);
        }

        public static Column int8(String name) {
            return new Column(name, 0, (short) 0, INT8_OID, (short) 8, -1, (short) 0);
        }
    }

    public RowDescription {
        columns = List.copyOf(columns);
    }

    public static RowDescription decode(ByteBuf body) {
        int count = Wire.readShort(body) & 0xffff;
        List<Column> columns = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String name = Wire.readCString(body);
            columns.add(new Column(
                    name,
                    Wire.readInt(body),
                    Wire.readShort(body),
                    Wire.readInt(body),
                    Wire.readShort(body),
                    Wire.readInt(body),
                    Wire.readShort(body)));
        }
        Wire.expectEnd(body, "RowDescription");
        return new RowDescription(columns);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Backend.ROW_DESCRIPTION);
        out.writeShort(columns.size());
        for (Column c : columns) {
            Wire.writeCString(out, c.name());
            out.writeInt(c.tableOid())
                    .writeShort(c.attributeNumber())
                    .writeInt(c.typeOid())
                    .writeShort(c.typeSize())
                    .writeInt(c.typeModifier())
                    .writeShort(c.format());
        }
        Wire.end(out, lengthIndex);
    }
}
