package io.pgmux.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.DecoderException;
import java.util.Locale;
import org.junit.jupiter.api.function.Executable;

/** Assertions on the errors pgmux reports for malformed input. */
public final class ProtocolAssertions {
    private ProtocolAssertions() {}

    /**
     * Asserts that {@code action} fails with a ProtocolException carrying SQLSTATE 08P01 and a message
     * that contains {@code messagePart} and is phrased as the style asks (lower case, no trailing period).
     */
    public static ProtocolException assertProtocolViolation(Executable action, String messagePart) {
        ProtocolException e = assertThrows(ProtocolException.class, action);
        assertViolation(e, messagePart);
        return e;
    }

    /** As {@link #assertProtocolViolation}, for a decoder inside a pipeline (Netty wraps the cause). */
    public static ProtocolException assertDecoderViolation(Executable action, String messagePart) {
        DecoderException e = assertThrows(DecoderException.class, action);
        ProtocolException cause = assertInstanceOf(ProtocolException.class, e.getCause());
        assertViolation(cause, messagePart);
        return cause;
    }

    private static void assertViolation(ProtocolException e, String messagePart) {
        assertEquals(SqlState.PROTOCOL_VIOLATION, e.sqlState());
        assertEquals("08P01", e.sqlState().code());
        String message = e.getMessage();
        assertTrue(message.contains(messagePart), () -> "\"" + message + "\" should contain \"" + messagePart + "\"");
        // Lower case as PostgreSQL writes it; an acronym such as SCRAM may open the message.
        String firstWord = message.split("[ :]", 2)[0];
        assertFalse(
                Character.isUpperCase(firstWord.charAt(0)) && !firstWord.equals(firstWord.toUpperCase(Locale.ROOT)),
                () -> "starts lower-case: " + message);
        assertFalse(message.endsWith("."), () -> "no trailing period: " + message);
    }
}
