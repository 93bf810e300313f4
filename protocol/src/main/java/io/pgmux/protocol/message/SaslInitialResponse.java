package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;

/** The client's chosen SASL mechanism and its first message ('p' after AuthenticationSASL). */
public record SaslInitialResponse(String mechanism, String data) implements FrontendMessage {
    public static SaslInitialResponse decode(ByteBuf body) {
        String mechanism = Wire.readCString(body);
        int length = Wire.readInt(body);
        if (length == -1 && !body.isReadable()) {
            // -1 announces no initial response; SCRAM always sends one, so the exchange rejects it later.
            return new SaslInitialResponse(mechanism, "");
        }
        if (length != body.readableBytes()) {
            throw new ProtocolException("invalid SASLInitialResponse: data length %d", length);
        }
        return new SaslInitialResponse(
                mechanism, body.readCharSequence(length, StandardCharsets.UTF_8).toString());
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Frontend.PASSWORD);
        Wire.writeCString(out, mechanism);
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length).writeBytes(bytes);
        Wire.end(out, lengthIndex);
    }

    @Override
    public String toString() {
        return "SaslInitialResponse[" + mechanism + "]";
    }
}
