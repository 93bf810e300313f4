package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.ProtocolException;
import java.util.Arrays;

/**
 * Asks to cancel the query running on the backend named by a process id and secret key. The key
 * is 4 bytes in protocol 3.0 and up to 256 bytes in 3.2.
 */
public record CancelRequest(int processId, byte[] secretKey) implements StartupPacket {
    public CancelRequest {
        secretKey = secretKey.clone();
    }

    static CancelRequest decode(ByteBuf body) {
        int pid = Wire.readInt(body);
        int keyLength = body.readableBytes();
        if (keyLength < 4 || keyLength > 256) {
            throw new ProtocolException("invalid CancelRequest: secret key of %d bytes", keyLength);
        }
        return new CancelRequest(pid, Wire.readBytes(body, keyLength));
    }

    @Override
    public byte[] secretKey() {
        return secretKey.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(12 + secretKey.length).writeInt(CANCEL_REQUEST_CODE).writeInt(processId);
        out.writeBytes(secretKey);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CancelRequest other
                && other.processId == processId
                && Arrays.equals(other.secretKey, secretKey);
    }

    @Override
    public int hashCode() {
        return 31 * processId + Arrays.hashCode(secretKey);
    }

    @Override
    public String toString() {
        return "CancelRequest[processId=" + processId + ", secretKey=<" + secretKey.length + " bytes>]";
    }
}
