package io.pgmux.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * The exact wire bytes of one typed protocol message: type byte, 4-byte length, body. A frame is
 * relayed as it came; {@link #body()} is a view for the few messages pgmux has to read.
 *
 * <p>Ownership: whoever holds a frame either passes it on (a channel write transfers it) or
 * releases it.
 */
public final class Frame extends DefaultByteBufHolder {
    public static final int HEADER_LENGTH = 5;

    private final byte type;

    /** Wraps {@code wire}, which must hold exactly one whole message; takes ownership of it. */
    public Frame(ByteBuf wire) {
        super(wire);
        this.type = wire.getByte(wire.readerIndex());
    }

    public byte type() {
        return type;
    }

    /** The body (after type and length) as a view sharing this frame's reference count. */
    public ByteBuf body() {
        ByteBuf wire = content();
        return wire.slice(wire.readerIndex() + HEADER_LENGTH, wire.readableBytes() - HEADER_LENGTH);
    }

    /** Where the body starts in {@link #content()}: for peeking at a few bytes in place, without a view per call. */
    public int bodyIndex() {
        return content().readerIndex() + HEADER_LENGTH;
    }

    /** Length of the whole message on the wire, header included. */
    public int wireLength() {
        return content().readableBytes();
    }

    @Override
    public Frame replace(ByteBuf content) {
        return new Frame(content);
    }

    @Override
    public Frame retain() {
        super.retain();
        return this;
    }

    @Override
    public Frame retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public String toString() {
        return "Frame(" + MessageType.describe(type) + ", " + wireLength() + " bytes)";
    }
}
