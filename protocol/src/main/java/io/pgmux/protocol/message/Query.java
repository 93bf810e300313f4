package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** A simple-protocol query string, possibly several statements. */
public record Query(String sql) implements FrontendMessage {
    public static Query decode(ByteBuf body) {
        String sql = Wire.readCString(body);
        Wire.expectEnd(body, "Query");
        return new Query(sql);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.QUERY);
        Wire.writeCString(out, sql);
        Wire.end(out, lengthIndex);
    }
}
