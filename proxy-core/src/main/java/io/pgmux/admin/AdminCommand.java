package io.pgmux.admin;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A command of the admin console, parsed from the SQL text a client sent. */
public sealed interface AdminCommand {
    /** {@code SHOW what}; {@code what} is upper case ({@code POOLS}, {@code STATS}, …). */
    record Show(String what) implements AdminCommand {}

    /** {@code SHUTDOWN}: pgmux drains, as on SIGTERM. */
    record Shutdown() implements AdminCommand {}

    /** {@code SET …}: accepted and ignored, so that drivers which set parameters at connect time work. */
    record Set(String text) implements AdminCommand {}

    /** An empty query string. */
    record Empty() implements AdminCommand {}

    Pattern SHOW = Pattern.compile("(?is)show\\s+([a-z_]+)");
    Pattern SET = Pattern.compile("(?is)set\\s+.+");
    Pattern SHUTDOWN = Pattern.compile("(?is)shutdown");

    /**
     * Parses {@code sql}, case-insensitively, ignoring surrounding whitespace and trailing semicolons; empty for what
     * the console does not know.
     */
    static Optional<AdminCommand> parse(String sql) {
        String text = sql.strip();
        while (text.endsWith(";")) {
            text = text.substring(0, text.length() - 1).strip();
        }
        if (text.isEmpty()) {
            return Optional.of(new Empty());
        }
        Matcher show = SHOW.matcher(text);
        if (show.matches()) {
            return Optional.of(new Show(show.group(1).toUpperCase(Locale.ROOT)));
        }
        if (SHUTDOWN.matcher(text).matches()) {
            return Optional.of(new Shutdown());
        }
        if (SET.matcher(text).matches()) {
            return Optional.of(new Set(text));
        }
        return Optional.empty();
    }
}
