package io.pgmux.session;

/**
 * Kinds of session state that cannot move between server connections. A client holding any of
 * them keeps its server until the state is gone; see the README's "Session state" section.
 */
public enum PinReason {
    /** SET of a setting PostgreSQL does not report (statement_timeout, work_mem, …). */
    SET,
    /** SET ROLE or SET SESSION AUTHORIZATION. */
    ROLE,
    /** LISTEN on a channel. */
    LISTEN,
    /** A session-level advisory lock. */
    ADVISORY_LOCK,
    /** A temporary table, view or sequence. */
    TEMP_TABLE,
    /** A cursor declared WITH HOLD. */
    HOLD_CURSOR,
    /** A statement prepared with SQL PREPARE. */
    SQL_PREPARE,
    /** A named statement prepared with the extended protocol (Parse). */
    NAMED_STATEMENT;

    /** The lower-case label used in logs, metrics and the console. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
