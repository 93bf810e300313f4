package io.pgmux.client;

import io.pgmux.protocol.MessageType.Backend;
import io.pgmux.protocol.MessageType.Frontend;
import io.pgmux.protocol.message.Message;
import io.pgmux.server.StatementKey;
import java.util.ArrayDeque;

/**
 * The replies the attached server owes, in the order it owes them: for the client's requests, for
 * requests pgmux slipped in (settings sync, a Parse under pgmux's name, a Close of an evicted
 * statement), and for requests pgmux answered itself without the server (a Parse of a statement the
 * server already has). With it the session relays the first kind, swallows the second and puts the
 * third's made-up reply in its place in the stream.
 *
 * <p>A request's replies end at a message that depends on the request (ParseComplete, BindComplete,
 * CommandComplete, ReadyForQuery, …) or at an ErrorResponse, after which PostgreSQL skips every
 * request up to the next Sync.
 */
final class ServerReplies {
    /** Who a request belongs to. */
    enum Purpose {
        /** The client's own request: its replies are relayed. */
        CLIENT,
        /** pgmux's set_config/RESET bringing the server to the client's settings. */
        SYNC_SETTINGS,
        /** pgmux's count of advisory locks and temporary tables. */
        RECHECK,
        /** pgmux's Parse of a client's named statement under pgmux's name; errors go to the client. */
        PREPARE,
        /** pgmux's Close of a statement evicted from the server. */
        EVICT,
        /** pgmux's ROLLBACK of a transaction opened in statement mode. */
        ROLLBACK,
        /** Answered by pgmux itself: {@link Owed#reply} is sent when its turn comes. */
        LOCAL
    }

    /**
     * One request's outstanding replies; {@code prepared} is the statement a Parse creates or a
     * Bind/Describe uses, when it is one of pgmux's.
     */
    record Owed(byte request, Purpose purpose, Message reply, StatementKey prepared) {}

    private static final Owed[] CLIENT_REQUESTS = new Owed[128];

    static {
        for (byte type : new byte[] {
            Frontend.PARSE,
            Frontend.BIND,
            Frontend.CLOSE,
            Frontend.DESCRIBE,
            Frontend.EXECUTE,
            Frontend.SYNC,
            Frontend.QUERY,
            Frontend.FUNCTION_CALL
        }) {
            CLIENT_REQUESTS[type] = new Owed(type, Purpose.CLIENT, null, null);
        }
    }

    /** What the session does with the requests PostgreSQL skips and with the replies pgmux made itself. */
    interface Listener {
        /** Told of each request PostgreSQL skips after an error in its batch. */
        void onSkipped(Owed owed);

        /** Sends a reply pgmux made itself to the client. */
        void writeLocalReply(Message reply);
    }

    /** The session itself, not two lambdas: an idle client keeps no object it does not need. */
    private final Listener listener;
    /** Null until the first request: a client that sits idle keeps no queue. */
    private ArrayDeque<Owed> owed;
    /**
     * After an error in an extended-protocol batch whose Sync was not sent yet, PostgreSQL discards
     * every message up to that Sync: requests sent meanwhile owe nothing.
     */
    private boolean skippingUntilSync;

    /**
     * Records a client request sent to the server; requests without replies (Flush, COPY data) are
     * ignored. Returns false when PostgreSQL will discard it (see {@link #skippingUntilSync}).
     */
    ServerReplies(Listener listener) {
        this.listener = listener;
    }

    boolean clientRequest(byte type) {
        Owed entry = type >= 0 ? CLIENT_REQUESTS[type] : null;
        return entry == null || add(entry);
    }

    /** Records a client request that uses one of pgmux's statements (a rewritten Bind or Describe). */
    void clientRequest(byte type, StatementKey statement) {
        add(new Owed(type, Purpose.CLIENT, null, statement));
    }

    /** Records a request pgmux sent itself; false when PostgreSQL will discard it. */
    boolean ownRequest(byte type, Purpose purpose, StatementKey prepared) {
        return add(new Owed(type, purpose, null, prepared));
    }

    /** Records a request pgmux answers itself; the answer goes out at once when nothing is owed before it. */
    void answerLocally(byte type, Message reply) {
        if (add(new Owed(type, Purpose.LOCAL, reply, null))) {
            sendLocalReplies();
        }
    }

    private boolean add(Owed entry) {
        if (skippingUntilSync) {
            if (entry.request() != Frontend.SYNC) {
                return false;
            }
            skippingUntilSync = false;
        }
        if (owed == null) {
            owed = new ArrayDeque<>(4);
        }
        owed.add(entry);
        return true;
    }

    /** True while PostgreSQL discards messages up to the next Sync. */
    boolean isSkippingUntilSync() {
        return skippingUntilSync;
    }

    /** The request the next server message belongs to; null when nothing is owed. */
    Owed head() {
        return owed == null ? null : owed.peek();
    }

    boolean isEmpty() {
        return owed == null || owed.isEmpty();
    }

    void clear() {
        if (owed != null) {
            owed.clear();
        }
        skippingUntilSync = false;
    }

    /**
     * Moves on after a server message of {@code type} was handled for {@link #head()}: a request whose
     * replies ended is done; after an error in an extended-protocol batch, the requests PostgreSQL
     * will skip are dropped (the listener sees pgmux's own Parses among them). Local replies now
     * due are sent.
     */
    void advance(byte type) {
        Owed head = head();
        if (head == null || !ends(head.request(), type)) {
            return;
        }
        owed.poll();
        if (type == Backend.ERROR_RESPONSE) {
            while (!isEmpty() && owed.peek().request() != Frontend.SYNC) {
                listener.onSkipped(owed.poll());
            }
            skippingUntilSync = isEmpty();
        }
        sendLocalReplies();
    }

    private void sendLocalReplies() {
        while (!isEmpty() && owed.peek().purpose() == Purpose.LOCAL) {
            listener.writeLocalReply(owed.poll().reply());
        }
    }

    /** True when {@code reply} is the last message the server sends for {@code request}. */
    static boolean ends(byte request, byte reply) {
        boolean untilReady = request == Frontend.SYNC || request == Frontend.QUERY || request == Frontend.FUNCTION_CALL;
        if (reply == Backend.ERROR_RESPONSE) {
            return !untilReady;
        }
        if (untilReady) {
            return reply == Backend.READY_FOR_QUERY;
        }
        return switch (request) {
            case Frontend.PARSE -> reply == Backend.PARSE_COMPLETE;
            case Frontend.BIND -> reply == Backend.BIND_COMPLETE;
            case Frontend.CLOSE -> reply == Backend.CLOSE_COMPLETE;
            case Frontend.DESCRIBE -> reply == Backend.ROW_DESCRIPTION || reply == Backend.NO_DATA;
            case Frontend.EXECUTE ->
                reply == Backend.COMMAND_COMPLETE
                        || reply == Backend.EMPTY_QUERY_RESPONSE
                        || reply == Backend.PORTAL_SUSPENDED;
            default -> false;
        };
    }
}
