package io.pgmux.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Thrown by a settings record's constructor (and its {@code from}) when values are out of range or contradict each
 * other; it lists every such value, each named by its key under {@code pgmux}, e.g. {@code pool.size must be >= 1, got 0}.
 */
public final class InvalidSettingsException extends IllegalArgumentException {
    private final List<Problem> details;

    InvalidSettingsException(List<Problem> details) {
        super(details.stream().map(Problem::text).collect(Collectors.joining("\n")));
        this.details = List.copyOf(details);
    }

    /** One line per problem, each starting with the key. */
    public List<String> problems() {
        return details.stream().map(Problem::text).toList();
    }

    List<Problem> details() {
        return details;
    }

    /** The same problems with {@code prefix} in front of every key, for records bound below another key. */
    InvalidSettingsException under(String prefix) {
        return new InvalidSettingsException(details.stream()
                .map(p -> new Problem(prefix + p.key(), p.message()))
                .toList());
    }

    /** A bad value: its key (dotted, under {@code pgmux}) and what is wrong with it. */
    record Problem(String key, String message) {
        String text() {
            return key + " " + message;
        }
    }
}
