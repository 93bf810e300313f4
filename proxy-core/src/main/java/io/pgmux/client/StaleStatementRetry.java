package io.pgmux.client;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.message.ErrorResponse;
import io.pgmux.protocol.message.TransactionStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * Retries, once and transparently, an extended-protocol batch that failed with "cached plan must
 * not change result type" (0A000) on one of pgmux's statements after DDL changed a table — but only
 * outside an explicit transaction and before anything of the batch reached the client, where a
 * second try is exactly what the client would have got on a fresh connection. Only a batch that
 * describes its result (Describe) is retried: without one the client would read rows of the new
 * shape with the description it cached for the old one, which is what PostgreSQL's error prevents.
 * Keeps retained copies
 * of the batch's messages until its ReadyForQuery (at most {@link #MAX_BYTES}).
 *
 * <p>States: IDLE (no batch or not retryable) → COPYING (a retryable batch in flight) → RETRYING
 * (the error arrived: the server's remaining replies up to ReadyForQuery are swallowed) → replay.
 */
final class StaleStatementRetry {
    static final int MAX_BYTES = 1 << 20;

    private enum State {
        IDLE,
        COPYING,
        RETRYING
    }

    /** Empty and shared until the first copy. */
    private List<Frame> copies = List.of();

    private State state = State.IDLE;
    private long bytes;
    private boolean describes;
    private Frame heldError;
    /** The batch being sent is itself a retry: it is not retried again. */
    private boolean replaying;

    /** Before a client message goes to the server; {@code batchStart} when it opens a new batch. */
    void onSend(Frame frame, boolean batchStart, TransactionStatus status) {
        if (batchStart) {
            discard();
            // Only a batch that opens with a named statement can hit a stale one of pgmux's; others
            // (unnamed statements, simple queries) cost nothing here.
            state = status == TransactionStatus.IDLE && !replaying && opensWithNamedStatement(frame)
                    ? State.COPYING
                    : State.IDLE;
        }
        if (state == State.IDLE) {
            return;
        }
        byte type = frame.type();
        if (type == MessageType.Frontend.QUERY
                || type == MessageType.Frontend.FUNCTION_CALL
                || type == MessageType.Frontend.COPY_DATA
                || bytes + frame.wireLength() > MAX_BYTES) {
            discard();
            return;
        }
        describes |= type == MessageType.Frontend.DESCRIBE;
        if (!(copies instanceof ArrayList)) {
            copies = new ArrayList<>(4);
        }
        copies.add(frame.retainedDuplicate());
        bytes += frame.wireLength();
    }

    /** A named Parse, a Bind to a named statement, or a Describe of one: peeks, decodes nothing. */
    private static boolean opensWithNamedStatement(Frame frame) {
        ByteBuf wire = frame.content();
        int body = frame.bodyIndex();
        int end = wire.writerIndex();
        return switch (frame.type()) {
            case MessageType.Frontend.PARSE -> body < end && wire.getByte(body) != 0;
            case MessageType.Frontend.BIND -> {
                int portalEnd = wire.indexOf(body, end, (byte) 0);
                yield portalEnd >= 0 && portalEnd + 1 < end && wire.getByte(portalEnd + 1) != 0;
            }
            case MessageType.Frontend.DESCRIBE ->
                end - body > 1 && wire.getByte(body) == 'S' && wire.getByte(body + 1) != 0;
            default -> false;
        };
    }

    /** Something of this batch reached the client: a retry could no longer be hidden. */
    void onRelayed() {
        if (state == State.COPYING) {
            discard();
        }
    }

    /**
     * An ErrorResponse for a request on one of pgmux's statements: true when it may start a retry;
     * the error is then held (the caller gives up its frame) until the batch's ReadyForQuery, when
     * the whole batch is known and {@link #canReplay()} decides.
     */
    boolean tryRetry(Frame error, ServerReplies.Owed owed) {
        if (state != State.COPYING
                || owed.request() == MessageType.Frontend.PARSE
                || !ErrorResponse.decode(error.body()).sqlState().equals(SqlState.FEATURE_NOT_SUPPORTED.code())) {
            return false;
        }
        heldError = error.retainedDuplicate();
        state = State.RETRYING;
        return true;
    }

    /** At the failed batch's ReadyForQuery: whether it can be sent again (it described its result). */
    boolean canReplay() {
        return state == State.RETRYING && describes;
    }

    /** The batch cannot be retried after all: the held error, for the client (ownership passes). */
    Frame giveUp() {
        Frame error = heldError;
        heldError = null;
        discard();
        return error;
    }

    boolean isRetrying() {
        return state == State.RETRYING;
    }

    /** The failed batch's ReadyForQuery arrived: its messages, to send again (ownership passes). */
    List<Frame> takeReplay() {
        if (heldError != null) {
            heldError.release();
            heldError = null;
        }
        List<Frame> replay = List.copyOf(copies);
        if (!copies.isEmpty()) {
            copies.clear();
        }
        bytes = 0;
        describes = false;
        state = State.IDLE;
        replaying = true;
        return replay;
    }

    /** The batch ended (its ReadyForQuery reached the client). */
    void onBatchEnd() {
        discard();
        replaying = false;
    }

    /** Releases the copies; the client or its server went away, or the batch cannot be retried. */
    void discard() {
        if (heldError != null) {
            heldError.release();
            heldError = null;
        }
        if (!copies.isEmpty()) {
            copies.forEach(Frame::release);
            copies.clear();
        }
        bytes = 0;
        describes = false;
        state = State.IDLE;
    }
}
