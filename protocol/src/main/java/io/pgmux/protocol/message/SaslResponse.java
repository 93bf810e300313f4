package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import java.nio.charset.StandardCharsets;

/** A later SASL message from the client ('p' after AuthenticationSASLContinue). */
public record SaslResponse(String data) implements FrontendMessage {
    public static SaslResponse decode(ByteBuf body) {
        return new SaslResponse(body.readCharSequence(body.readableBytes(), StandardCharsets.UTF_8)
                .toString());
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.PASSWORD);
        out.writeCharSequence(data, StandardCharsets.UTF_8);
        Wire.end(out, lengthIndex);
    }

    @Override
    public String toString() {
        return "SaslResponse[******]";
    }
}
