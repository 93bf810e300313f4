package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.ProtocolException;
import java.util.List;

/** Creates a prepared statement; an empty name is the unnamed statement. */
public record Parse(String name, String sql, List<Integer> parameterTypes) implements FrontendMessage {
    public Parse {
        parameterTypes = List.copyOf(parameterTypes);
    }

    public static Parse decode(ByteBuf body) {
        String name = Wire.readCString(body);
        String sql = Wire.readCString(body);
        int count = Wire.readShort(body) & 0xffff;
        if (body.readableBytes() != count * 4) {
            throw new ProtocolException("invalid Parse message: %d parameter types announced", count);
        }
        Integer[] types = new Integer[count];
        for (int i = 0; i < count; i++) {
            types[i] = body.readInt();
        }
        return new Parse(name, sql, List.of(types));
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.PARSE);
        Wire.writeCString(out, name);
        Wire.writeCString(out, sql);
        out.writeShort(parameterTypes.size());
        parameterTypes.forEach(out::writeInt);
        Wire.end(out, lengthIndex);
    }
}
