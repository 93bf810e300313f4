package io.pgmux.logging;

import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import java.util.Locale;

/**
 * The log layout {@code PGMUX_LOG_FORMAT} picks (logback.xml passes it as {@code format}): {@code text} (the default),
 * one line per event with {@code pattern}, or {@code json}, one JSON object per line from logback's
 * {@link JsonEncoder} with the fields {@code timestamp} (epoch milliseconds), {@code level}, {@code threadName},
 * {@code loggerName}, {@code formattedMessage} and, for an exception, {@code throwable}. An unknown format is
 * reported on logback's status (stderr) and falls back to text.
 *
 * <p>The text format with logback.xml's pattern ({@link #STANDARD_PATTERN}) is written by hand, byte for byte as
 * logback's PatternLayout writes it, at a fraction of its cost: pgmux logs two lines per client connection. Other
 * patterns, and events with an exception, go through PatternLayout.
 */
public final class LogFormatEncoder extends EncoderBase<ILoggingEvent> {
    /** logback.xml's pattern; {@link StandardLine} writes it without PatternLayout. */
    public static final String STANDARD_PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{0} - %msg%n";

    private String format = "text";
    private String pattern = "%msg%n";
    private Encoder<ILoggingEvent> delegate;
    /** Set when the text format uses {@link #STANDARD_PATTERN}. */
    private StandardLine standard;

    /** {@code text} or {@code json}, case-insensitive. */
    public void setFormat(String format) {
        this.format = format;
    }

    /** The pattern of the text format. */
    public void setPattern(String pattern) {
        this.pattern = pattern;
    }

    @Override
    public void start() {
        String chosen = format == null ? "text" : format.trim().toLowerCase(Locale.ROOT);
        if (chosen.equals("json")) {
            delegate = json();
        } else {
            if (!chosen.equals("text") && !chosen.isEmpty()) {
                addError("PGMUX_LOG_FORMAT must be text or json, not \"" + format + "\"; logging as text");
            }
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setPattern(pattern);
            delegate = text;
            standard = STANDARD_PATTERN.equals(pattern) ? new StandardLine() : null;
        }
        delegate.setContext(getContext());
        delegate.start();
        super.start();
    }

    private static JsonEncoder json() {
        JsonEncoder json = new JsonEncoder();
        json.setWithSequenceNumber(false);
        json.setWithNanoseconds(false);
        json.setWithContext(false);
        json.setWithMarkers(false);
        json.setWithMDC(false);
        json.setWithKVPList(false);
        json.setWithArguments(false);
        json.setWithMessage(false);
        json.setWithFormattedMessage(true);
        return json;
    }

    @Override
    public void stop() {
        if (delegate != null) {
            delegate.stop();
        }
        super.stop();
    }

    @Override
    public byte[] headerBytes() {
        return delegate == null ? null : delegate.headerBytes();
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        if (standard != null && event.getThrowableProxy() == null) {
            return standard.encode(event);
        }
        return delegate.encode(event);
    }

    @Override
    public byte[] footerBytes() {
        return delegate == null ? null : delegate.footerBytes();
    }
}
