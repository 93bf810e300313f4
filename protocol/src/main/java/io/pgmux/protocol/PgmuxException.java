package io.pgmux.protocol;

/**
 * An error pgmux reports to a client as an ErrorResponse: a SQLSTATE and a message phrased like
 * PostgreSQL's (lower case, no trailing period, naming the setting involved).
 */
public class PgmuxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final SqlState sqlState;

    public PgmuxException(SqlState sqlState, String message) {
        super(message);
        this.sqlState = sqlState;
    }

    public PgmuxException(SqlState sqlState, String format, Object... args) {
        this(sqlState, String.format(format, args));
    }

    public SqlState sqlState() {
        return sqlState;
    }
}
