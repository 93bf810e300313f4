package io.pgmux;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects the reports of Netty's leak detector (the tests run with {@code leakDetection.level=paranoid}), so that
 * {@link TestProxy#close()} can fail when pgmux dropped a {@code ByteBuf} without releasing it.
 */
public final class LeakReports extends AppenderBase<ILoggingEvent> {
    private static final List<String> reports = new ArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        synchronized (reports) {
            reports.add(event.getFormattedMessage());
        }
    }

    /** The reports collected so far, which are then forgotten. */
    static List<String> drain() {
        synchronized (reports) {
            List<String> out = List.copyOf(reports);
            reports.clear();
            return out;
        }
    }
}
