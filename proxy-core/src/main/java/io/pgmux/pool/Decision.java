package io.pgmux.pool;

import io.pgmux.protocol.SqlState;

/**
 * What {@link PoolState} decided; {@link Pool} carries it out after the state is consistent.
 *
 * @param <S> the server handle
 * @param <W> the waiter handle
 */
public sealed interface Decision<S, W> {
    /** Hand {@code server} to {@code waiter}. */
    record Lease<S, W>(S server, W waiter) implements Decision<S, W> {}

    /**
     * Open a new server connection; the pool's waiters get it when it is ready. Its outcome goes back to the pool with
     * {@code generation}, so that a connect decided before a RECONNECT never joins the pool.
     */
    record Connect<S, W>(PoolState.Generation generation) implements Decision<S, W> {}

    /** Fail {@code waiter} with an error. */
    record Reject<S, W>(W waiter, SqlState sqlState, String message) implements Decision<S, W> {}

    /**
     * The pool has clients waiting and room under its size, but {@code budget} (max-db-connections or
     * max-user-connections) is spent: wait for another pool to give room back, and ask one to close an idle server.
     */
    record NoRoom<S, W>(ConnectionBudget budget) implements Decision<S, W> {}

    /** Close {@code server}. */
    record Close<S, W>(S server, CloseReason reason) implements Decision<S, W> {}
}
