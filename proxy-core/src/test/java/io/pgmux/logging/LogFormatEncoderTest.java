package io.pgmux.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.status.Status;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The two log layouts PGMUX_LOG_FORMAT chooses between. */
class LogFormatEncoderTest {
    private final LoggerContext context = new LoggerContext();
    private final Logger logger = context.getLogger("io.pgmux.client.ClientSession");

    private String encode(String format, LoggingEvent event) {
        LogFormatEncoder encoder = new LogFormatEncoder();
        encoder.setContext(context);
        encoder.setFormat(format);
        encoder.setPattern("%-5level %logger{0} - %msg%n");
        encoder.start();
        try {
            return new String(encoder.encode(event), StandardCharsets.UTF_8);
        } finally {
            encoder.stop();
        }
    }

    private LoggingEvent event(String message, Throwable error, Object... arguments) {
        LoggingEvent event = new LoggingEvent(Logger.FQCN, logger, Level.INFO, message, error, arguments);
        event.setThreadName("pgmux-io-3-1");
        return event;
    }

    @Test
    void jsonIsOneObjectPerLineWithTheFormattedMessageAndTheException() throws Exception {
        String line = encode(
                "JSON",
                event(
                        "client {} closed: \"{}\" (SQLSTATE {})",
                        new IllegalStateException("boom\nsecond line"),
                        "c7",
                        "quote\"d",
                        "28P01"));

        assertTrue(line.endsWith("\n"), line);
        assertEquals(1, line.strip().lines().count(), "a single line even with newlines in the exception: " + line);
        JsonNode event = new ObjectMapper().readTree(line);
        assertEquals("INFO", event.get("level").asText());
        assertEquals("io.pgmux.client.ClientSession", event.get("loggerName").asText());
        assertEquals("pgmux-io-3-1", event.get("threadName").asText());
        assertEquals(
                "client c7 closed: \"quote\"d\" (SQLSTATE 28P01)",
                event.get("formattedMessage").asText());
        assertTrue(event.get("timestamp").asLong() > 0);
        assertEquals(
                "java.lang.IllegalStateException",
                event.get("throwable").get("className").asText());
        assertEquals("boom\nsecond line", event.get("throwable").get("message").asText());
        assertFalse(event.has("arguments"), "arguments are in the formatted message already");
    }

    @Test
    void textIsTheDefaultAndAnUnknownFormatFallsBackToItWithAnError() {
        assertEquals(
                "INFO  ClientSession - client c1 logged in\n",
                encode("text", event("client {} logged in", null, "c1")));
        assertEquals(
                "INFO  ClientSession - client c1 logged in\n",
                encode("yaml", event("client {} logged in", null, "c1")));
        assertTrue(
                context.getStatusManager().getCopyOfStatusList().stream()
                        .anyMatch(s -> s.getLevel() == Status.ERROR
                                && s.getMessage().contains("PGMUX_LOG_FORMAT must be text or json")),
                "the bad value is reported");
    }

    @Test
    void theStandardPatternIsWrittenByHandExactlyAsPatternLayoutWritesIt() {
        LogFormatEncoder fast = new LogFormatEncoder();
        fast.setContext(context);
        fast.setPattern(LogFormatEncoder.STANDARD_PATTERN);
        fast.start();
        ch.qos.logback.classic.encoder.PatternLayoutEncoder reference =
                new ch.qos.logback.classic.encoder.PatternLayoutEncoder();
        reference.setContext(context);
        reference.setPattern(LogFormatEncoder.STANDARD_PATTERN);
        reference.start();
        Logger bare = context.getLogger("NoPackage");
        long[] times = {0L, 999L, 1_000L, 1_700_000_000_007L, 1_700_000_000_070L, 1_700_000_000_700L, 1_800_000_059_999L
        };
        for (long time : times) {
            for (Level level : new Level[] {Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR}) {
                for (Logger from : new Logger[] {logger, bare}) {
                    LoggingEvent event = new LoggingEvent(
                            Logger.FQCN, from, level, "client {} said «{}»", null, new Object[] {"c7", "grüß"});
                    event.setThreadName("pgmux-io-3-1");
                    event.setTimeStamp(time);
                    assertEquals(
                            new String(reference.encode(event), StandardCharsets.UTF_8),
                            new String(fast.encode(event), StandardCharsets.UTF_8));
                }
            }
        }
        LoggingEvent failed = event("client {} failed", new IllegalStateException("boom"), "c7");
        assertEquals(
                new String(reference.encode(failed), StandardCharsets.UTF_8),
                new String(fast.encode(failed), StandardCharsets.UTF_8),
                "with an exception, PatternLayout writes it");
        fast.stop();
        reference.stop();
    }
}
