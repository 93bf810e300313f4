package io.pgmux.protocol.message;

import io.pgmux.protocol.ProtocolException;

/** The transaction status carried by ReadyForQuery. */
public enum TransactionStatus {
    /** Not in a transaction block: the server may go back to the pool. */
    IDLE('I'),
    IN_TRANSACTION('T'),
    /** In a failed transaction block: only ROLLBACK is accepted. */
    FAILED('E');

    private final char code;

    TransactionStatus(char code) {
        this.code = code;
    }

    public char code() {
        return code;
    }

    public static TransactionStatus of(byte code) {
        return switch (code) {
            case 'I' -> IDLE;
            case 'T' -> IN_TRANSACTION;
            case 'E' -> FAILED;
            default -> throw new ProtocolException("invalid transaction status '%c' in ReadyForQuery", (char) code);
        };
    }
}
