package io.pgmux.session;

/** What a statement does to state that lives in the server session, as {@link SqlClassifier} sees it. */
public sealed interface SessionEffect {
    /** The statement creates state of this kind, named {@code key} ("" when unnamed). */
    record Pin(PinReason reason, String key) implements SessionEffect {}

    /** The statement removes the state of this kind named {@code key}. */
    record Unpin(PinReason reason, String key) implements SessionEffect {}

    /** The statement removes all state of this kind (RESET ALL, UNLISTEN *, DEALLOCATE ALL, CLOSE ALL). */
    record UnpinAll(PinReason reason) implements SessionEffect {}

    /** A session-level SET of a setting; whether it pins depends on whether PostgreSQL reports it. */
    record Set(String name) implements SessionEffect {}

    /** RESET of one setting. */
    record Reset(String name) implements SessionEffect {}

    /** DISCARD ALL: everything is gone, settings back to their defaults. */
    record DiscardAll() implements SessionEffect {}

    /** A lock may have been released (pg_advisory_unlock) or a table dropped: state must be re-checked. */
    record Recheck(PinReason reason) implements SessionEffect {}
}
