package io.pgmux.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * {@link LogFormatEncoder#STANDARD_PATTERN} without PatternLayout's converter chain: the date up to the second is
 * formatted once a second, the rest appended as it is. For events without an exception (PatternLayout adds the
 * stack trace of one), the bytes are those PatternLayout makes, in the same (the JVM's default) charset.
 */
final class StandardLine {
    private static final DateTimeFormatter TO_THE_SECOND =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.").withZone(ZoneId.systemDefault());
    private static final String LINE_SEPARATOR = System.lineSeparator();

    /** The last second formatted, and its text; replaced whole, so a racing reader sees a matching pair. */
    private record Second(long epochSecond, String text) {}

    private volatile Second second = new Second(Long.MIN_VALUE, "");

    byte[] encode(ILoggingEvent event) {
        long millis = event.getTimeStamp();
        long epochSecond = Math.floorDiv(millis, 1000);
        Second s = second;
        if (s.epochSecond() != epochSecond) {
            s = new Second(epochSecond, TO_THE_SECOND.format(Instant.ofEpochSecond(epochSecond)));
            second = s;
        }
        String message = event.getFormattedMessage();
        StringBuilder line = new StringBuilder(80 + message.length());
        int milli = (int) Math.floorMod(millis, 1000);
        line.append(s.text())
                .append((char) ('0' + milli / 100))
                .append((char) ('0' + milli / 10 % 10))
                .append((char) ('0' + milli % 10))
                .append(' ');
        String level = event.getLevel().toString();
        line.append(level);
        for (int i = level.length(); i < 5; i++) {
            line.append(' ');
        }
        String logger = event.getLoggerName();
        line.append(" [")
                .append(event.getThreadName())
                .append("] ")
                .append(logger, logger.lastIndexOf('.') + 1, logger.length())
                .append(" - ")
                .append(message)
                .append(LINE_SEPARATOR);
        return line.toString().getBytes();
    }
}
