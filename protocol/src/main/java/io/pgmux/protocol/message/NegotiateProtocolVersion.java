package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.ProtocolException;
import java.util.ArrayList;
import java.util.List;

/** The newest minor protocol version supported, and the {@code _pq_.} options not recognised. */
public record NegotiateProtocolVersion(int newestMinorVersion, List<String> unrecognizedOptions)
        implements BackendMessage {
    public NegotiateProtocolVersion {
        unrecognizedOptions = List.copyOf(unrecognizedOptions);
    }

    public static NegotiateProtocolVersion decode(ByteBuf body) {
        int minor = Wire.readInt(body);
        int count = Wire.readInt(body);
        if (count < 0) {
            throw new ProtocolException("invalid NegotiateProtocolVersion message: %d options", count);
        }
        List<String> options = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            options.add(Wire.readCString(body));
        }
        Wire.expectEnd(body, "NegotiateProtocolVersion");
        return new NegotiateProtocolVersion(minor, options);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Backend.NEGOTIATE_PROTOCOL_VERSION);
        out.writeInt(newestMinorVersion).writeInt(unrecognizedOptions.size());
        unrecognizedOptions.forEach(o -> Wire.writeCString(out, o));
        Wire.end(out, lengthIndex);
    }
}
