package io.pgmux.config;

import io.pgmux.config.InvalidSettingsException.Problem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Collects the problems of one record, or of several bound together, so that they are all reported at once. */
final class Problems {
    private final List<Problem> found = new ArrayList<>();

    void check(boolean ok, String key, String message) {
        if (!ok) {
            found.add(new Problem(key, message));
        }
    }

    void atLeast(String key, long value, long min) {
        check(value >= min, key, "must be >= " + min + ", got " + value);
    }

    void between(String key, long value, long min, long max) {
        check(value >= min && value <= max, key, "must be between " + min + " and " + max + ", got " + value);
    }

    /** Durations: 0 disables, negative makes no sense. */
    void notNegative(String key, Duration value) {
        if (value == null) {
            check(false, key, "must be set");
        } else {
            check(!value.isNegative(), key, "must be >= 0, got " + Hocon.duration(value));
        }
    }

    void notBlank(String key, String value) {
        check(value != null && !value.isBlank(), key, "must be set");
    }

    void notNull(String key, Object value) {
        check(value != null, key, "must be set");
    }

    /** Runs a binder; if it throws {@link InvalidSettingsException}, keeps its problems and returns null. */
    <T> T collect(Supplier<T> binder) {
        try {
            return binder.get();
        } catch (InvalidSettingsException e) {
            found.addAll(e.details());
            return null;
        }
    }

    boolean isEmpty() {
        return found.isEmpty();
    }

    void throwIfAny() {
        if (!found.isEmpty()) {
            throw new InvalidSettingsException(found);
        }
    }
}
