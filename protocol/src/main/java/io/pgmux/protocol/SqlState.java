package io.pgmux.protocol;

/**
 * The SQLSTATEs pgmux itself sends. Errors from PostgreSQL are relayed untouched and never mapped
 * onto this enum.
 */
public enum SqlState {
    SUCCESSFUL_COMPLETION("00000"),
    CONNECTION_EXCEPTION("08000"),
    CONNECTION_FAILURE("08006"),
    SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION("08001"),
    PROTOCOL_VIOLATION("08P01"),
    FEATURE_NOT_SUPPORTED("0A000"),
    INVALID_AUTHORIZATION_SPECIFICATION("28000"),
    INVALID_SQL_STATEMENT_NAME("26000"),
    INVALID_CURSOR_NAME("34000"),
    INVALID_PASSWORD("28P01"),
    INVALID_CATALOG_NAME("3D000"),
    INSUFFICIENT_PRIVILEGE("42501"),
    SYNTAX_ERROR("42601"),
    TOO_MANY_CONNECTIONS("53300"),
    OBJECT_NOT_IN_PREREQUISITE_STATE("55000"),
    OBJECT_IN_USE("55006"),
    QUERY_CANCELED("57014"),
    ADMIN_SHUTDOWN("57P01"),
    CANNOT_CONNECT_NOW("57P03"),
    IDLE_IN_TRANSACTION_SESSION_TIMEOUT("25P03"),
    CONFIG_FILE_ERROR("F0000"),
    INTERNAL_ERROR("XX000");

    private final String code;

    SqlState(String code) {
        this.code = code;
    }

    /** The five-character code, e.g. {@code 53300}. */
    public String code() {
        return code;
    }

    /** The two-character class, e.g. {@code 53}. */
    public String sqlClass() {
        return code.substring(0, 2);
    }
}
