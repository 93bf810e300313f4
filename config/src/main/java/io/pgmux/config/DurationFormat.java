package io.pgmux.config;

import java.time.Duration;

/** Durations as they are written in the configuration ({@code 30s}, {@code 500ms}), for messages that name a setting. */
public final class DurationFormat {
    private DurationFormat() {}

    public static String of(Duration d) {
        return Hocon.duration(d);
    }
}
