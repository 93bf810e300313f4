package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** A cleartext or MD5-hashed password ('p' when the server asked for a password). */
public record PasswordMessage(String password) implements FrontendMessage {
    public static PasswordMessage decode(ByteBuf body) {
        String password = Wire.readCString(body);
        Wire.expectEnd(body, "PasswordMessage");
        return new PasswordMessage(password);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.PASSWORD);
        Wire.writeCString(out, password);
        Wire.end(out, lengthIndex);
    }

    @Override
    public String toString() {
        return "PasswordMessage[******]";
    }
}
