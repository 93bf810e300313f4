package io.pgmux.client;

import io.netty.buffer.ByteBuf;
import io.pgmux.protocol.Frame;
import io.pgmux.protocol.MessageType;
import io.pgmux.protocol.SqlState;
import io.pgmux.protocol.message.Bind;
import io.pgmux.protocol.message.Close;
import io.pgmux.protocol.message.CloseComplete;
import io.pgmux.protocol.message.Describe;
import io.pgmux.protocol.message.ErrorResponse;
import io.pgmux.protocol.message.Parse;
import io.pgmux.protocol.message.ParseComplete;
import io.pgmux.protocol.message.TargetKind;
import io.pgmux.server.ServerConnection;
import io.pgmux.server.StatementKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * One client's protocol-level named statements in transaction mode. The client's names map to
 * statements; on whichever server the client lands, a statement is prepared under pgmux's own name
 * ({@code pgmux_N}, shared by every client with the same SQL) and the client's Bind and Describe are
 * rewritten to it. Close forgets the client's name and is answered locally; the server keeps the
 * statement, up to max-prepared-statements, least recently used closed first.
 *
 * <p>Each {@code send*} method takes a frame it may handle: when it returns true the frame was
 * released and what replaces it was written to the server; when false, the caller forwards it as is.
 */
final class NamedStatements {
    /** Empty and shared until the client's first named statement: most clients never name one. */
    private Map<String, StatementKey> byClientName = Map.of();
    /** Empty and shared until the first stale name. */
    private List<String> staleNames = List.of();

    private final ServerReplies replies;
    private final IntSupplier maxPerServer;

    /**
     * @param maxPerServer max-prepared-statements of the client's pool; 0 turns tracking off
     */
    NamedStatements(ServerReplies replies, IntSupplier maxPerServer) {
        this.replies = replies;
        this.maxPerServer = maxPerServer;
    }

    /** How many named statements the client has (SHOW CLIENTS' prepared_statements). */
    int size() {
        return byClientName.size();
    }

    /** False when max-prepared-statements is 0: named statements then go through untouched (and pin). */
    boolean isEnabled() {
        return maxPerServer.getAsInt() > 0;
    }

    /** A named Parse is sent under pgmux's name, or answered locally when the server has the statement. */
    boolean sendParse(ServerConnection server, Parse parse, Frame frame) {
        if (parse.name().isEmpty() || !isEnabled()) {
            return false;
        }
        frame.release();
        StatementKey key = new StatementKey(parse.sql(), parse.parameterTypes());
        if (!(byClientName instanceof HashMap)) {
            byClientName = new HashMap<>();
        }
        byClientName.put(parse.name(), key);
        if (server.statements().lookup(key) != null) {
            replies.answerLocally(MessageType.Frontend.PARSE, ParseComplete.INSTANCE);
        } else {
            prepare(server, key, false);
        }
        return true;
    }

    /** Whether a Bind names a statement (its second string is not empty); peeks in place. */
    private static boolean namesStatement(Frame bind) {
        ByteBuf wire = bind.content();
        int portalEnd = wire.indexOf(bind.bodyIndex(), wire.writerIndex(), (byte) 0);
        return portalEnd < 0 || (portalEnd + 1 < wire.writerIndex() && wire.getByte(portalEnd + 1) != 0);
    }

    /** Bind to a named statement: to pgmux's name for it, prepared first when this server lacks it. */
    boolean sendBind(ServerConnection server, Frame frame) {
        if (!isEnabled() || !namesStatement(frame)) {
            return false; // the unnamed statement: nothing to look up, no name to read
        }
        String statement = Bind.peekStatement(frame.body());
        StatementKey key = byClientName.get(statement);
        if (key == null) {
            return false;
        }
        String serverName = serverName(server, key);
        ByteBuf renamed;
        try {
            renamed = Bind.withStatement(
                    frame.body(), serverName, server.channel().alloc());
        } finally {
            frame.release();
        }
        server.write(new Frame(renamed));
        replies.clientRequest(MessageType.Frontend.BIND, key);
        return true;
    }

    boolean sendDescribe(ServerConnection server, Frame frame) {
        ByteBuf wire = frame.content();
        int body = frame.bodyIndex();
        if (!isEnabled() || wire.writerIndex() - body < 2 || wire.getByte(body) != 'S' || wire.getByte(body + 1) == 0) {
            return false; // a portal, or the unnamed statement: decoded by nobody
        }
        Describe describe = Describe.decode(frame.body());
        StatementKey key = describe.kind() == TargetKind.STATEMENT ? byClientName.get(describe.name()) : null;
        if (key == null) {
            return false;
        }
        frame.release();
        server.write(new Describe(TargetKind.STATEMENT, serverName(server, key)));
        replies.clientRequest(MessageType.Frontend.DESCRIBE, key);
        return true;
    }

    /** Closing a named statement forgets the client's name; the server keeps the statement for others. */
    boolean sendClose(Close close, Frame frame) {
        if (close.kind() != TargetKind.STATEMENT || close.name().isEmpty() || !isEnabled()) {
            return false;
        }
        frame.release();
        if (!byClientName.isEmpty()) {
            byClientName.remove(close.name());
        }
        replies.answerLocally(MessageType.Frontend.CLOSE, CloseComplete.INSTANCE);
        return true;
    }

    /** DISCARD ALL or DEALLOCATE ALL ran: every protocol-level statement on the server is gone, pgmux's too. */
    void discardAll(ServerConnection server) {
        server.statements().clear();
        byClientName = Map.of();
    }

    /**
     * An error for a request on one of pgmux's statements. A failed Parse never created it; a Bind
     * or Describe failing with "cached plan must not change result type" (0A000, DDL changed a
     * table) means the statement is stale on this server: it is forgotten at once, so that the next
     * use prepares it afresh, and closed by {@link #closeStale} after the batch. Returns true when it
     * wrote to the server.
     */
    boolean onError(ServerConnection server, Frame error, ServerReplies.Owed owed) {
        if (owed.request() == MessageType.Frontend.PARSE) {
            server.statements().remove(owed.prepared());
            return false;
        }
        if (!ErrorResponse.decode(error.body()).sqlState().equals(SqlState.FEATURE_NOT_SUPPORTED.code())) {
            return false;
        }
        String stale = server.statements().lookup(owed.prepared());
        if (stale == null) {
            return false;
        }
        server.statements().remove(owed.prepared());
        // Not closed yet: PostgreSQL skips every message up to Sync after an error, this Close too.
        if (!(staleNames instanceof ArrayList)) {
            staleNames = new ArrayList<>(2);
        }
        staleNames.add(stale);
        return false;
    }

    /**
     * Closes the statements found stale since the last ReadyForQuery; called once the server is
     * past the failed batch. Returns true when it wrote to the server.
     */
    boolean closeStale(ServerConnection server) {
        if (staleNames.isEmpty()) {
            return false;
        }
        for (String stale : staleNames) {
            server.write(new Close(TargetKind.STATEMENT, stale));
            replies.ownRequest(MessageType.Frontend.CLOSE, ServerReplies.Purpose.EVICT, null);
        }
        staleNames.clear();
        return true;
    }

    /** A request PostgreSQL skipped after an error: a Parse pgmux made for it never happened. */
    void onSkipped(ServerConnection server, ServerReplies.Owed owed) {
        if (owed.prepared() != null && server != null) {
            server.statements().remove(owed.prepared());
        }
    }

    /** pgmux's name for a statement on {@code server}, preparing it there first if needed. */
    private String serverName(ServerConnection server, StatementKey key) {
        String name = server.statements().lookup(key);
        return name != null ? name : prepare(server, key, true);
    }

    /**
     * Prepares a statement under a new pgmux name, for the client's own Parse ({@code hidden} false:
     * its reply is relayed) or ahead of a Bind/Describe (its reply is swallowed); closes the least
     * recently used statement beyond max-prepared-statements.
     */
    private String prepare(ServerConnection server, StatementKey key, boolean hidden) {
        String name = server.statements().add(key);
        server.write(new Parse(name, key.sql(), key.parameterTypes()));
        if (!replies.ownRequest(
                MessageType.Frontend.PARSE,
                hidden ? ServerReplies.Purpose.PREPARE : ServerReplies.Purpose.CLIENT,
                key)) {
            // PostgreSQL is skipping to Sync after an error: this Parse will not happen.
            server.statements().remove(key);
        }
        String evicted = server.statements().evictBeyond(maxPerServer.getAsInt());
        if (evicted != null) {
            server.write(new Close(TargetKind.STATEMENT, evicted));
            replies.ownRequest(MessageType.Frontend.CLOSE, ServerReplies.Purpose.EVICT, null);
        }
        return name;
    }
}
