package io.pgmux.metrics;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.message.TransactionStatus;
import java.util.function.LongSupplier;

/**
 * What one client reports, in the words of its session: state changes, waits, messages each way. It keeps the
 * client's place in the {@code pgmux_client_connections} gauges and the start times of its wait, query and
 * transaction, and passes the results to its pool's {@link PoolMetrics}. Touched only on the client's event loop.
 *
 * <p>A query is a round trip ended by ReadyForQuery (a Query, or extended-protocol messages up to Sync), timed from
 * the first message sent to the server; a transaction ends at a ReadyForQuery with status idle and is timed from its
 * first message. When the client already sent the next round trip (pipelining), that one is timed from the previous
 * ReadyForQuery, which is when the server started on it.
 */
public final class ClientMetrics {
    private static final long NONE = Long.MIN_VALUE;

    private final LongSupplier nanoClock;
    private PoolMetrics pool;
    /** null once the client is gone. */
    private ClientState state = ClientState.LOGIN;

    private long waitStartNanos = NONE;
    private long queryStartNanos = NONE;
    private long transactionStartNanos = NONE;
    /** Bytes of server messages relayed since the last {@link #countRelayedBytes()}. */
    private long relayedBytes;
    /** Bytes of client messages received since the last {@link #countReceivedBytes()}. */
    private long receivedBytes;

    ClientMetrics(PoolMetrics beforeLogin, LongSupplier nanoClock) {
        this.pool = beforeLogin;
        this.nanoClock = nanoClock;
        pool.clientStateChanged(null, state);
    }

    /** The client's pool is known: from now on it is counted there. */
    public void joined(PoolMetrics next) {
        countReceivedBytes();
        pool.clientStateChanged(state, null);
        pool = next;
        pool.clientStateChanged(null, state);
    }

    /** The client moved to {@code next}; {@code null} when it is gone. */
    public void state(ClientState next) {
        if (next == null) {
            countReceivedBytes();
            countRelayedBytes();
        }
        if (next != state) {
            pool.clientStateChanged(state, next);
            state = next;
        }
    }

    /** The client asked its pool for a server. */
    public void waitStarted() {
        waitStartNanos = nanoClock.getAsLong();
    }

    /** The pool answered (a server, or a failure): the wait is over. */
    public void waitEnded() {
        if (waitStartNanos != NONE) {
            pool.waited(nanoClock.getAsLong() - waitStartNanos);
            waitStartNanos = NONE;
        }
    }

    /** The client sent a message of {@code bytes} (its whole wire length). */
    public void received(int bytes) {
        receivedBytes += bytes;
    }

    /** Adds the bytes received since the last call to the received-bytes counter (once per read burst). */
    public void countReceivedBytes() {
        if (receivedBytes > 0) {
            pool.bytesReceived(receivedBytes);
            receivedBytes = 0;
        }
    }

    /** pgmux sent the client a message of its own making, {@code bytes} long. */
    public void sent(int bytes) {
        pool.bytesSent(bytes);
    }

    /** pgmux sent the client an ErrorResponse of its own making. */
    public void error(SqlState sqlState) {
        pool.error(sqlState);
    }

    /** A client message went to the server: starts the query and transaction clocks if they are not running. */
    public void requestSent() {
        if (queryStartNanos == NONE || transactionStartNanos == NONE) {
            long now = nanoClock.getAsLong();
            if (queryStartNanos == NONE) {
                queryStartNanos = now;
            }
            if (transactionStartNanos == NONE) {
                transactionStartNanos = now;
            }
        }
    }

    /**
     * A server message goes to the client (call before handing the frame on): counts its bytes (added up until
     * {@link #countRelayedBytes()}), an ErrorResponse by
     * its SQLSTATE class, and a ReadyForQuery as the end of a query (and of a transaction when its status is idle).
     *
     * @param moreSent whether the client already sent more that this ReadyForQuery does not answer
     */
    public void toClient(Frame frame, boolean moreSent) {
        relayedBytes += frame.wireLength();
        byte type = frame.type();
        if (type == MessageType.Backend.READY_FOR_QUERY) {
            ByteBuf wire = frame.content();
            readyForQuery(TransactionStatus.of(wire.getByte(wire.readerIndex() + Frame.HEADER_LENGTH)), moreSent);
        } else if (type == MessageType.Backend.ERROR_RESPONSE) {
            serverError(frame.content());
        }
    }

    /** Adds the bytes of the messages relayed since the last call to the sent-bytes counter (once per read burst). */
    public void countRelayedBytes() {
        if (relayedBytes > 0) {
            pool.bytesSent(relayedBytes);
            relayedBytes = 0;
        }
    }

    /** The server went away mid-round-trip: whatever was running will never see its ReadyForQuery. */
    public void serverLost() {
        queryStartNanos = NONE;
        transactionStartNanos = NONE;
    }

    private void readyForQuery(TransactionStatus status, boolean moreSent) {
        long now = nanoClock.getAsLong();
        long next = moreSent ? now : NONE;
        if (queryStartNanos != NONE) {
            pool.queryDone(now - queryStartNanos);
            queryStartNanos = next;
        }
        if (status == TransactionStatus.IDLE && transactionStartNanos != NONE) {
            pool.transactionDone(now - transactionStartNanos);
            transactionStartNanos = next;
        }
    }

    /**
     * Finds the SQLSTATE ('C' field) in an ErrorResponse's wire bytes without decoding the rest: fields are a code
     * byte and a NUL-terminated string, the list ends with a NUL (protocol "ErrorResponse (B)").
     */
    private void serverError(ByteBuf wire) {
        int end = wire.writerIndex();
        int i = wire.readerIndex() + Frame.HEADER_LENGTH;
        while (i < end) {
            byte field = wire.getByte(i);
            if (field == 0) {
                break;
            }
            if (field == 'C') {
                if (i + 2 < end) {
                    pool.error((char) wire.getByte(i + 1), (char) wire.getByte(i + 2));
                    return;
                }
                break;
            }
            int nul = wire.indexOf(i + 1, end, (byte) 0);
            if (nul < 0) {
                break;
            }
            i = nul + 1;
        }
        // No SQLSTATE (not valid from PostgreSQL): still an error the client saw.
        pool.error('?', '?');
    }
}
