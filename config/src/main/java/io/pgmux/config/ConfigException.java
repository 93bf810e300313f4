package io.pgmux.config;

import java.util.List;

/**
 * A configuration that cannot be used. It carries every problem found, one per line in the message, each naming its
 * key and, when known, where the value was set ({@code pgmux.conf:12: pool.size must be >= 1, got 0}).
 */
public final class ConfigException extends Exception {
    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
