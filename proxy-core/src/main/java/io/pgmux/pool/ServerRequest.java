package io.pgmux.pool;

import io.netty.channel.EventLoop;
import io.pgmux.protocol.PgmuxException;
import io.pgmux.server.ServerConnection;

/**
 * Something that asked a {@link Pool} for a server: a client, or an auth query run. The pool answers exactly once per
 * {@link Pool#acquire} that {@link Pool#cancelWait} did not withdraw, always on {@link #eventLoop()}. A request is its
 * own identity in the pool's queue, so asking costs no object per transaction; it must not ask again before the answer.
 */
public interface ServerRequest {
    /** Where the answer runs, and which servers suit the request best (those on the same loop). */
    EventLoop eventLoop();

    /** The server is leased to the request, which gives it back with {@link Pool#release} (also when it no longer wants it). */
    void granted(ServerConnection server);

    /** No server: the pool is closed, or it cannot reach or log in to PostgreSQL. */
    void refused(PgmuxException error);
}
