package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** The client aborts a COPY FROM STDIN, with a reason. */
public record CopyFail(String message) implements FrontendMessage {
    public static CopyFail decode(ByteBuf body) {
        String message = Wire.readCString(body);
        Wire.expectEnd(body, "CopyFail");
        return new CopyFail(message);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.COPY_FAIL);
        Wire.writeCString(out, message);
        Wire.end(out, lengthIndex);
    }
}
