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

    /**
     * {@code BEGIN [...]}: opens a transaction block. The console's commands take effect at once whatever the block;
     * it only keeps portals open across Sync, so that a driver can fetch a result in batches (pgjdbc's
     * {@code setFetchSize} with autocommit off).
     */
    record Begin() implements AdminCommand {}

    /** {@code COMMIT} or {@code END} ({@code [WORK | TRANSACTION]}): ends the transaction block and its portals. */
    record Commit() implements AdminCommand {}

    /**
     * {@code ROLLBACK} or {@code ABORT} ({@code [WORK | TRANSACTION]}): ends the transaction block and its portals;
     * nothing is undone.
     */
    record Rollback() implements AdminCommand {}

    /** An empty query string. */
    record Empty() implements AdminCommand {}

    /** {@code PAUSE [db]}: answered once every server of the pool(s) is released and closed. */
    record Pause(Optional<String> database) implements AdminCommand {}

    /** {@code RESUME [db]}: clients held by PAUSE or KILL get servers again. */
    record Resume(Optional<String> database) implements AdminCommand {}

    /** {@code RECONNECT [db]}: every server is replaced as it is next released. */
    record Reconnect(Optional<String> database) implements AdminCommand {}

    /** {@code KILL db}: its clients and servers are closed at once and the database is paused. */
    record Kill(String database) implements AdminCommand {}

    /** {@code RELOAD}: re-read the configuration (and auth.file), as on SIGHUP. */
    record Reload() implements AdminCommand {}

    Pattern SHOW = Pattern.compile("(?is)show\\s+([a-z_]+)");
    Pattern SET = Pattern.compile("(?is)set\\s+.+");
    Pattern SHUTDOWN = Pattern.compile("(?is)shutdown");
    Pattern RELOAD = Pattern.compile("(?is)reload");
    /** BEGIN with any transaction modes after it ({@code BEGIN READ ONLY}, as pgjdbc may send). */
    Pattern BEGIN = Pattern.compile("(?is)begin(?:\\s+.+)?");

    Pattern COMMIT = Pattern.compile("(?is)(?:commit|end)(?:\\s+(?:work|transaction))?");
    Pattern ROLLBACK = Pattern.compile("(?is)(?:rollback|abort)(?:\\s+(?:work|transaction))?");
    /** PAUSE, RESUME, RECONNECT with an optional database name (plain or double-quoted); KILL with a required one. */
    Pattern POOL_COMMAND = Pattern.compile("(?is)(pause|resume|reconnect|kill)(?:\\s+(\"[^\"]+\"|\\S+))?");

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
        if (RELOAD.matcher(text).matches()) {
            return Optional.of(new Reload());
        }
        if (BEGIN.matcher(text).matches()) {
            return Optional.of(new Begin());
        }
        if (COMMIT.matcher(text).matches()) {
            return Optional.of(new Commit());
        }
        if (ROLLBACK.matcher(text).matches()) {
            return Optional.of(new Rollback());
        }
        Matcher pool = POOL_COMMAND.matcher(text);
        if (pool.matches()) {
            Optional<String> database = Optional.ofNullable(pool.group(2)).map(AdminCommand::unquote);
            return switch (pool.group(1).toLowerCase(Locale.ROOT)) {
                case "pause" -> Optional.of(new Pause(database));
                case "resume" -> Optional.of(new Resume(database));
                case "reconnect" -> Optional.of(new Reconnect(database));
                default -> database.map(Kill::new);
            };
        }
        if (SET.matcher(text).matches()) {
            return Optional.of(new Set(text));
        }
        return Optional.empty();
    }

    private static String unquote(String name) {
        return name.length() >= 2 && name.startsWith("\"") ? name.substring(1, name.length() - 1) : name;
    }
}
