package io.pgmux.protocol.message;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.ProtocolException;

/** The untyped messages that open a connection; which one it is depends on the code after the length. */
public sealed interface StartupPacket extends FrontendMessage
        permits StartupMessage, SslRequest, GssEncRequest, CancelRequest {
    int SSL_REQUEST_CODE = 80877103;
    int GSSENC_REQUEST_CODE = 80877104;
    int CANCEL_REQUEST_CODE = 80877102;

    /** Decodes the packet after its length field; reads {@code body} to the end. */
    static StartupPacket decode(ByteBuf body) {
        int code = Wire.readInt(body);
        switch (code) {
            case SSL_REQUEST_CODE:
                Wire.expectEnd(body, "SSLRequest");
                return SslRequest.INSTANCE;
            case GSSENC_REQUEST_CODE:
                Wire.expectEnd(body, "GSSENCRequest");
                return GssEncRequest.INSTANCE;
            case CANCEL_REQUEST_CODE:
                return CancelRequest.decode(body);
            default:
                // Only major version 3 exists since PostgreSQL 14; a newer 3.x minor is accepted and
                // negotiated down with NegotiateProtocolVersion, as PostgreSQL does.
                if (code >>> 16 != 3) {
                    throw new ProtocolException(
                            "unsupported frontend protocol %d.%d: server supports 3.0 to 3.2",
                            code >>> 16, code & 0xffff);
                }
                return StartupMessage.decode(code, body);
        }
    }
}
