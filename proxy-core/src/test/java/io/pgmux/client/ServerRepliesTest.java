package io.pgmux.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.protocol.MessageType.Backend;
import io.pgmux.protocol.MessageType.Frontend;
import io.pgmux.protocol.message.Message;
import io.pgmux.protocol.message.ParseComplete;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerRepliesTest {
    private final List<Message> sent = new ArrayList<>();
    private final List<ServerReplies.Owed> skipped = new ArrayList<>();
    private final ServerReplies replies = new ServerReplies(new ServerReplies.Listener() {
        @Override
        public void onSkipped(ServerReplies.Owed owed) {
            skipped.add(owed);
        }

        @Override
        public void writeLocalReply(Message reply) {
            sent.add(reply);
        }
    });

    private void reply(byte type) {
        replies.advance(type);
    }

    @Test
    void aRequestEndsAtItsOwnLastReply() {
        replies.clientRequest(Frontend.BIND);
        replies.clientRequest(Frontend.EXECUTE);
        replies.clientRequest(Frontend.SYNC);
        reply(Backend.BIND_COMPLETE);
        assertEquals(Frontend.EXECUTE, replies.head().request());
        reply(Backend.DATA_ROW);
        assertEquals(Frontend.EXECUTE, replies.head().request(), "a row does not end an Execute");
        reply(Backend.COMMAND_COMPLETE);
        reply(Backend.READY_FOR_QUERY);
        assertTrue(replies.isEmpty());
    }

    @Test
    void localRepliesWaitForTheirTurn() {
        replies.clientRequest(Frontend.BIND);
        replies.answerLocally(Frontend.PARSE, ParseComplete.INSTANCE);
        assertTrue(sent.isEmpty(), "the Bind's reply comes first");
        reply(Backend.BIND_COMPLETE);
        assertEquals(List.of(ParseComplete.INSTANCE), sent);
    }

    @Test
    void anErrorSkipsTheRequestsUpToSync() {
        replies.clientRequest(Frontend.BIND);
        replies.clientRequest(Frontend.EXECUTE);
        replies.answerLocally(Frontend.CLOSE, ParseComplete.INSTANCE);
        replies.clientRequest(Frontend.SYNC);
        reply(Backend.ERROR_RESPONSE);
        assertEquals(2, skipped.size(), "the Execute and the locally answered Close are skipped");
        assertTrue(sent.isEmpty(), "no made-up reply for a skipped request");
        assertEquals(Frontend.SYNC, replies.head().request());
    }

    @Test
    void requestsSentAfterAnErrorBeforeTheSyncOweNothing() {
        replies.clientRequest(Frontend.BIND);
        reply(Backend.ERROR_RESPONSE);
        assertTrue(replies.isSkippingUntilSync());
        assertTrue(replies.clientRequest(Frontend.FLUSH), "Flush never owes anything");
        assertFalse(replies.clientRequest(Frontend.EXECUTE));
        assertFalse(replies.clientRequest(Frontend.QUERY), "a Query is discarded too");
        assertFalse(replies.ownRequest(Frontend.PARSE, ServerReplies.Purpose.PREPARE, null));
        assertTrue(replies.isEmpty());
        assertTrue(replies.clientRequest(Frontend.SYNC));
        assertFalse(replies.isSkippingUntilSync());
        reply(Backend.READY_FOR_QUERY);
        assertTrue(replies.isEmpty());
    }

    @Test
    void anErrorInASimpleQueryIsFollowedByItsReadyForQuery() {
        replies.clientRequest(Frontend.QUERY);
        reply(Backend.ERROR_RESPONSE);
        assertFalse(replies.isSkippingUntilSync());
        assertEquals(Frontend.QUERY, replies.head().request());
        reply(Backend.READY_FOR_QUERY);
        assertTrue(replies.isEmpty());
    }
}
