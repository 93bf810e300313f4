package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** A protocol message that pgmux reads or writes; {@code encode} writes the whole message. */
public interface Message {
    void encode(ByteBuf out);

    /** Encodes into a new buffer owned by the caller. */
    default ByteBuf toByteBuf(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer();
        encode(out);
        return out;
    }
}
