package io.pgmux.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class MessageTypeTest {
    @Test
    void describeQuotesPrintableTypesAndHexesTheRest() {
        assertEquals("'Q'", MessageType.describe(MessageType.Frontend.QUERY));
        assertEquals("'1'", MessageType.describe(MessageType.Backend.PARSE_COMPLETE));
        assertEquals("0x00", MessageType.describe((byte) 0));
        assertEquals("0x7f", MessageType.describe((byte) 0x7f));
        assertEquals("0xff", MessageType.describe((byte) -1));
    }

    @Test
    void everyFrontendTypeIsKnownAndNothingElse() {
        for (char type : "BCdcfDEHFPpQSX".toCharArray()) {
            assertTrue(MessageType.Frontend.isKnown((byte) type), "'" + type + "'");
        }
        for (char type : "RZTKN0\0".toCharArray()) {
            assertFalse(MessageType.Frontend.isKnown((byte) type), "'" + type + "'");
        }
    }

    @Test
    void sharedLettersMeanDifferentMessagesEachWay() {
        assertEquals(MessageType.Frontend.DESCRIBE, MessageType.Backend.DATA_ROW);
        assertEquals(MessageType.Frontend.SYNC, MessageType.Backend.PARAMETER_STATUS);
        assertEquals(MessageType.Frontend.FLUSH, MessageType.Backend.COPY_OUT_RESPONSE);
    }

    @Test
    void sqlStatesAreFiveCharactersAndDistinct() {
        Set<String> codes = Arrays.stream(SqlState.values()).map(SqlState::code).collect(Collectors.toSet());

        assertEquals(SqlState.values().length, codes.size());
        for (SqlState state : SqlState.values()) {
            assertEquals(5, state.code().length(), state.name());
        }
        assertEquals("08P01", SqlState.PROTOCOL_VIOLATION.code());
        assertEquals("08", SqlState.PROTOCOL_VIOLATION.sqlClass());
        assertEquals("53300", SqlState.TOO_MANY_CONNECTIONS.code());
    }

    @Test
    void onlyFatalAndPanicEndTheSession() {
        for (Severity severity : Severity.values()) {
            assertEquals(
                    severity == Severity.FATAL || severity == Severity.PANIC, severity.endsSession(), severity.name());
        }
    }

    @Test
    void pgmuxExceptionFormatsItsMessage() {
        PgmuxException e = new PgmuxException(SqlState.CANNOT_CONNECT_NOW, "pool %s is paused", "appdb/app");

        assertEquals("pool appdb/app is paused", e.getMessage());
        assertEquals(SqlState.CANNOT_CONNECT_NOW, e.sqlState());
        assertEquals(SqlState.PROTOCOL_VIOLATION, new ProtocolException("x %d", 1).sqlState());
    }
}
