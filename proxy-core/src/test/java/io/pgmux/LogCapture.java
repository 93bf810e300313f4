package io.pgmux;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Collects what pgmux logs while it is open, for tests that check what an operator would read. */
final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private LogCapture(String loggerName) {
        this.logger = (Logger) LoggerFactory.getLogger(loggerName);
        appender.start();
        logger.addAppender(appender);
    }

    /** What {@code source} logs. */
    static LogCapture of(Class<?> source) {
        return new LogCapture(source.getName());
    }

    /** What every class of pgmux logs. */
    static LogCapture pgmux() {
        return new LogCapture("io.pgmux");
    }

    /** The formatted messages logged so far at INFO or above. */
    List<String> infos() {
        return atLeast(Level.INFO);
    }

    /** The formatted messages logged so far at WARN or above. */
    List<String> warnings() {
        return atLeast(Level.WARN);
    }

    /** The formatted messages logged so far at ERROR, with the exception if any. */
    List<String> errors() {
        return atLeast(Level.ERROR);
    }

    private List<String> atLeast(Level level) {
        // AppenderBase.doAppend holds the appender's monitor while it adds to the list.
        synchronized (appender) {
            return appender.list.stream()
                    .filter(e -> e.getLevel().isGreaterOrEqual(level))
                    .map(e -> e.getFormattedMessage()
                            + (e.getThrowableProxy() == null
                                    ? ""
                                    : " " + e.getThrowableProxy().getClassName() + ": "
                                            + e.getThrowableProxy().getMessage()))
                    .toList();
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
