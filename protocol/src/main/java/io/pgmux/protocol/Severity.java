package io.pgmux.protocol;

/** Severity of an ErrorResponse or NoticeResponse, as sent in its 'S' and 'V' fields. */
public enum Severity {
    ERROR,
    FATAL,
    PANIC,
    WARNING,
    NOTICE,
    DEBUG,
    INFO,
    LOG;

    /** True when the session cannot go on after an error of this severity. */
    public boolean endsSession() {
        return this == FATAL || this == PANIC;
    }
}
