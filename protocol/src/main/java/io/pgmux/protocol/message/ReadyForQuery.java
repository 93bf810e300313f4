package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.MessageType;

/** The server is ready for the next query, and says whether a transaction is open. */
public record ReadyForQuery(TransactionStatus status) implements BackendMessage {
    public static final ReadyForQuery IDLE = new ReadyForQuery(TransactionStatus.IDLE);

    public static ReadyForQuery decode(ByteBuf body) {
        TransactionStatus status = TransactionStatus.of(Wire.readByte(body));
        Wire.expectEnd(body, "ReadyForQuery");
        return new ReadyForQuery(status);
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(MessageType.Backend.READY_FOR_QUERY).writeInt(5).writeByte(status.code());
    }
}
