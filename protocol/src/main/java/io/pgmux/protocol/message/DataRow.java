package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** One row of text values; a null element is SQL NULL. pgmux decodes rows only in tests. */
public record DataRow(List<String> values) implements BackendMessage {
    public DataRow {
        values = Collections.unmodifiableList(new ArrayList<>(values));
    }

    public static DataRow decode(ByteBuf body) {
        int count = Wire.readShort(body) & 0xffff;
        List<String> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int length = Wire.readInt(body);
            if (length < -1) {
                throw new ProtocolException("invalid DataRow message: value length %d", length);
            }
            values.add(length == -1 ? null : new String(Wire.readBytes(body, length), StandardCharsets.UTF_8));
        }
        Wire.expectEnd(body, "DataRow");
        return new DataRow(values);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Backend.DATA_ROW);
        out.writeShort(values.size());
        for (String value : values) {
            if (value == null) {
                out.writeInt(-1);
            } else {
                int valueIndex = out.writerIndex();
                out.writeInt(0);
                int written = out.writeCharSequence(value, StandardCharsets.UTF_8);
                out.setInt(valueIndex, written);
            }
        }
        Wire.end(out, lengthIndex);
    }
}
