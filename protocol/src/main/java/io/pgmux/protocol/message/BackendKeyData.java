package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.ProtocolException;
import java.security.MessageDigest;
import java.util.Arrays;

/** The key a client needs to cancel its queries: a process id and a secret (4 to 256 bytes). */
public record BackendKeyData(int processId, byte[] secretKey) implements BackendMessage {
    public BackendKeyData {
        secretKey = secretKey.clone();
    }

    public static BackendKeyData decode(ByteBuf body) {
        int pid = Wire.readInt(body);
        int keyLength = body.readableBytes();
        if (keyLength < 4 || keyLength > 256) {
            throw new ProtocolException("invalid BackendKeyData: secret key of %d bytes", keyLength);
        }
        return new BackendKeyData(pid, Wire.readBytes(body, keyLength));
    }

    /** True when {@code candidate} is this key's secret, compared in constant time (no copy of the secret). */
    public boolean secretMatches(byte[] candidate) {
        return MessageDigest.isEqual(secretKey, candidate);
    }

    @Override
    public byte[] secretKey() {
        return secretKey.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = Wire.begin(out, MessageType.Backend.BACKEND_KEY_DATA);
        out.writeInt(processId).writeBytes(secretKey);
        Wire.end(out, lengthIndex);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BackendKeyData k && k.processId == processId && Arrays.equals(k.secretKey, secretKey);
    }

    @Override
    public int hashCode() {
        return 31 * processId + Arrays.hashCode(secretKey);
    }

    @Override
    public String toString() {
        return "BackendKeyData[processId=" + processId + "]";
    }
}
