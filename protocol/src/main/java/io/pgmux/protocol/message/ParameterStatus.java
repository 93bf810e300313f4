package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** The server reports the current value of a setting, e.g. TimeZone. */
public record ParameterStatus(String name, String value) implements BackendMessage {
    public static ParameterStatus decode(ByteBuf body) {
        String name = Wire.readCString(body);
        String value = Wire.readCString(body);
        Wire.expectEnd(body, "ParameterStatus");
        return new ParameterStatus(name, value);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Backend.PARAMETER_STATUS);
        Wire.writeCString(out, name);
        Wire.writeCString(out, value);
        Wire.end(out, lengthIndex);
    }
}
