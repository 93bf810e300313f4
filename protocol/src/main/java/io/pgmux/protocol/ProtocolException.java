package io.pgmux.protocol;

/** Malformed or out-of-order input; the connection that sent it cannot go on. */
public final class ProtocolException extends PgmuxException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(SqlState.PROTOCOL_VIOLATION, message);
    }

    public ProtocolException(String format, Object... args) {
        super(SqlState.PROTOCOL_VIOLATION, String.format(format, args));
    }
}
