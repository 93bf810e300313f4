package io.pgmux.protocol.message;

import io.pgmux.protocol.ProtocolException;

/** What a Describe or Close names: a prepared statement ('S') or a portal ('P'). */
public enum TargetKind {
    STATEMENT('S'),
    PORTAL('P');

    private final char code;

    TargetKind(char code) {
        this.code = code;
    }

    public char code() {
        return code;
    }

    public static TargetKind of(byte code) {
        return switch (code) {
            case 'S' -> STATEMENT;
            case 'P' -> PORTAL;
            default -> throw new ProtocolException("invalid target kind '%c' (expected 'S' or 'P')", (char) code);
        };
    }
}
