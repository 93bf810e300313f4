package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.ProtocolException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The field list shared by ErrorResponse and NoticeResponse: (code byte, string) pairs, ended by 0. */
final class Fields {
    private Fields() {}

    static Map<Character, String> decode(ByteBuf body) {
        Map<Character, String> fields = new LinkedHashMap<>();
        while (true) {
            byte code = Wire.readByte(body);
            if (code == 0) {
                break;
            }
            fields.put((char) code, Wire.readCString(body));
        }
        if (body.isReadable()) {
            throw new ProtocolException("invalid error or notice message: %d trailing bytes", body.readableBytes());
        }
        return Collections.unmodifiableMap(fields);
    }

    static void encode(ByteBuf out, Map<Character, String> fields) {
        fields.forEach((code, value) -> {
            out.writeByte(code);
            Wire.writeCString(out, value);
        });
        out.writeByte(0);
    }

    static Map<Character, String> copy(Map<Character, String> fields) {
        return Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }
}
