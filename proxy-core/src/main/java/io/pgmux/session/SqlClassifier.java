package io.pgmux.session;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds the statements in a query string that create or remove session state (SET, RESET,
 * DISCARD, LISTEN, temporary tables, WITH HOLD cursors, SQL PREPARE, advisory locks). A small
 * tokenizer, not a parser: it skips comments and quoted text, splits at semicolons and looks at the
 * leading keywords, plus advisory-lock function names anywhere. It errs towards finding state.
 */
public final class SqlClassifier {
    private SqlClassifier() {}

    private record Token(String text, boolean word, boolean quoted) {}

    /** The effects of every statement in {@code sql}, in order. */
    public static List<SessionEffect> classify(String sql) {
        if (!mayAffectSession(sql)) {
            return List.of();
        }
        List<SessionEffect> effects = new ArrayList<>(0);
        List<Token> statement = new ArrayList<>();
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == ';') {
                classifyStatement(statement, effects);
                statement.clear();
                i++;
            } else if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                i = skipBlockComment(sql, i);
            } else if (c == '\'') {
                i = skipString(sql, i, (i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e')));
                statement.add(new Token("'", false, false));
            } else if (c == '"') {
                int end = i + 1;
                StringBuilder id = new StringBuilder();
                while (end < n) {
                    if (sql.charAt(end) == '"') {
                        if (end + 1 < n && sql.charAt(end + 1) == '"') {
                            id.append('"');
                            end += 2;
                            continue;
                        }
                        break;
                    }
                    id.append(sql.charAt(end++));
                }
                statement.add(new Token(id.toString(), true, true));
                i = end + 1;
            } else if (c == '$' && dollarTagEnd(sql, i) > 0) {
                int tagEnd = dollarTagEnd(sql, i);
                String tag = sql.substring(i, tagEnd + 1);
                int close = sql.indexOf(tag, tagEnd + 1);
                i = close < 0 ? n : close + tag.length();
                statement.add(new Token("'", false, false));
            } else if (Character.isLetter(c) || c == '_') {
                int end = i + 1;
                while (end < n
                        && (Character.isLetterOrDigit(sql.charAt(end))
                                || sql.charAt(end) == '_'
                                || sql.charAt(end) == '$'
                                || sql.charAt(end) == '.')) {
                    end++;
                }
                statement.add(new Token(sql.substring(i, end).toLowerCase(Locale.ROOT), true, false));
                i = end;
            } else {
                statement.add(new Token(String.valueOf(c), false, false));
                i++;
            }
        }
        classifyStatement(statement, effects);
        return effects;
    }

    /**
     * A cheap first look at a query's text, without decoding it: false when no word in it starts like one of the
     * words without which no statement affects session state (see {@link #classify}). The text is UTF-8; every
     * such word is ASCII, and PostgreSQL's lexer counts any non-ASCII byte as part of an identifier.
     */
    public static boolean mayAffectSession(ByteBuf text, int from, int to) {
        int length = Math.max(0, to - from);
        // One copy out of the buffer, then plain array reads: reading the buffer byte by byte (bounds and reference
        // count checks per byte, over three passes) was 3 % of the event loops' CPU under pgbench -S.
        AsciiView view = length <= SCRATCH_BYTES ? SCRATCH.get() : new AsciiView(new byte[length]);
        text.getBytes(from, view.bytes, 0, length);
        view.length = length;
        return mayAffectSession(view);
    }

    private static boolean mayAffectSession(CharSequence sql) {
        // Runs on every Query and Parse: one pass, looking only where a word starts. Commands count only as the
        // first word of a statement (so UPDATE ... SET is no trigger), unless a comment might hide that word.
        boolean commentsPossible = mayHaveComment(sql);
        int n = sql.length();
        boolean inWord = false;
        boolean statementStart = true;
        for (int i = 0; i < n; i++) {
            char c = sql.charAt(i);
            boolean wordChar = c >= 0x80 || Character.isLetterOrDigit(c) || c == '_' || c == '$';
            if (wordChar && !inWord) {
                int lower = c | 0x20;
                if (startsAnywhereTrigger(sql, i, lower)
                        || ((statementStart || commentsPossible) && startsCommandTrigger(sql, i, lower))) {
                    return true;
                }
                statementStart = false;
            } else if (c == ';') {
                statementStart = true;
            }
            inWord = wordChar;
        }
        return false;
    }

    /**
     * The commands that change session state: SET, RESET, DISCARD, LISTEN, UNLISTEN, PREPARE, DEALLOCATE, CLOSE
     * and DROP (which may drop a temporary table).
     */
    private static boolean startsCommandTrigger(CharSequence sql, int i, int lower) {
        return switch (lower) {
            case 's' -> startsWith(sql, i, "set");
            case 'r' -> startsWith(sql, i, "reset");
            case 'd' -> startsWith(sql, i, "discard") || startsWith(sql, i, "deallocate") || startsWith(sql, i, "drop");
            case 'l' -> startsWith(sql, i, "listen");
            case 'u' -> startsWith(sql, i, "unlisten");
            case 'c' -> startsWith(sql, i, "close");
            case 'p' -> startsWith(sql, i, "prepare");
            default -> false;
        };
    }

    /** Words that matter wherever they are: TEMP (CREATE TEMP, SELECT INTO TEMP), HOLD and advisory locks. */
    private static boolean startsAnywhereTrigger(CharSequence sql, int i, int lower) {
        return switch (lower) {
            case 't' -> startsWith(sql, i, "temp");
            case 'h' -> startsWith(sql, i, "hold");
            case 'p' -> startsWith(sql, i, "pg_advisory") || startsWith(sql, i, "pg_try_advisory");
            default -> false;
        };
    }

    /** Whether {@code sql} has a "/*" or "--" anywhere (in quoted text too: this errs towards yes). */
    private static boolean mayHaveComment(CharSequence sql) {
        for (int i = 0, n = sql.length(); i + 1 < n; i++) {
            char c = sql.charAt(i);
            if ((c == '/' && sql.charAt(i + 1) == '*') || (c == '-' && sql.charAt(i + 1) == '-')) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code sql} has {@code word} (lower-case ASCII) at {@code i}, ignoring ASCII case. */
    private static boolean startsWith(CharSequence sql, int i, String word) {
        if (i + word.length() > sql.length()) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            char c = sql.charAt(i + k);
            if ((c >= 'A' && c <= 'Z' ? c | 0x20 : c) != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** Query texts up to this long are copied into a per-thread array; longer ones into a new one. */
    private static final int SCRATCH_BYTES = 8192;

    /** Per thread: one view and its array, reused for every query text that fits. */
    private static final FastThreadLocal<AsciiView> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected AsciiView initialValue() {
            return new AsciiView(new byte[SCRATCH_BYTES]);
        }
    };

    /** The first {@code length} bytes of UTF-8 text seen as chars: ASCII as is, every other byte as a char above 0x7f. */
    private static final class AsciiView implements CharSequence {
        private final byte[] bytes;
        private int length;

        AsciiView(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public char charAt(int index) {
            return (char) (bytes[index] & 0xff);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new String(bytes, start, end - start, StandardCharsets.ISO_8859_1);
        }

        @Override
        public String toString() {
            return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
        }
    }

    private static void classifyStatement(List<Token> t, List<SessionEffect> out) {
        for (int k = 0; k + 1 < t.size(); k++) {
            if (t.get(k).word() && !t.get(k).quoted() && t.get(k + 1).text().equals("(")) {
                switch (t.get(k).text().replace("pg_catalog.", "")) {
                    case "pg_advisory_lock",
                            "pg_advisory_lock_shared",
                            "pg_try_advisory_lock",
                            "pg_try_advisory_lock_shared" ->
                        out.add(new SessionEffect.Pin(PinReason.ADVISORY_LOCK, ""));
                    case "pg_advisory_unlock", "pg_advisory_unlock_shared" ->
                        out.add(new SessionEffect.Recheck(PinReason.ADVISORY_LOCK));
                    case "pg_advisory_unlock_all" -> out.add(new SessionEffect.UnpinAll(PinReason.ADVISORY_LOCK));
                    default -> {}
                }
            }
        }
        if (t.isEmpty() || !t.get(0).word() || t.get(0).quoted()) {
            return;
        }
        String w1 = word(t, 1);
        switch (t.get(0).text()) {
            case "set" -> classifySet(t, out);
            case "reset" -> {
                switch (w1) {
                    case "all" -> {
                        out.add(new SessionEffect.UnpinAll(PinReason.SET));
                        out.add(new SessionEffect.Unpin(PinReason.ROLE, "role"));
                    }
                    case "role" -> out.add(new SessionEffect.Unpin(PinReason.ROLE, "role"));
                    case "session" -> out.add(new SessionEffect.Unpin(PinReason.ROLE, "session authorization"));
                    case "time" -> out.add(new SessionEffect.Reset("timezone"));
                    case "" -> {}
                    default -> out.add(new SessionEffect.Reset(w1));
                }
            }
            case "discard" -> {
                switch (w1) {
                    case "all" -> out.add(new SessionEffect.DiscardAll());
                    case "temp", "temporary" -> out.add(new SessionEffect.UnpinAll(PinReason.TEMP_TABLE));
                    default -> {}
                }
            }
            case "listen" -> out.add(new SessionEffect.Pin(PinReason.LISTEN, w1));
            case "unlisten" ->
                out.add(
                        word(t, 1).isEmpty() && t.size() > 1 && t.get(1).text().equals("*")
                                ? new SessionEffect.UnpinAll(PinReason.LISTEN)
                                : new SessionEffect.Unpin(PinReason.LISTEN, w1));
            case "create" -> {
                for (int k = 1; k < Math.min(t.size(), 5); k++) {
                    String w = word(t, k);
                    if (w.equals("temp") || w.equals("temporary")) {
                        out.add(new SessionEffect.Pin(PinReason.TEMP_TABLE, ""));
                        break;
                    }
                }
            }
            case "select" -> {
                for (int k = 1; k + 1 < t.size(); k++) {
                    if (word(t, k).equals("into")
                            && (word(t, k + 1).equals("temp") || word(t, k + 1).equals("temporary"))) {
                        out.add(new SessionEffect.Pin(PinReason.TEMP_TABLE, ""));
                        break;
                    }
                }
            }
            case "drop" -> out.add(new SessionEffect.Recheck(PinReason.TEMP_TABLE));
            case "declare" -> {
                for (int k = 2; k + 1 < t.size(); k++) {
                    if (word(t, k).equals("with") && word(t, k + 1).equals("hold")) {
                        out.add(new SessionEffect.Pin(PinReason.HOLD_CURSOR, w1));
                        break;
                    }
                    if (word(t, k).equals("for")) {
                        break;
                    }
                }
            }
            case "close" ->
                out.add(
                        w1.equals("all")
                                ? new SessionEffect.UnpinAll(PinReason.HOLD_CURSOR)
                                : new SessionEffect.Unpin(PinReason.HOLD_CURSOR, w1));
            case "prepare" -> {
                if (!w1.equals("transaction") && !w1.isEmpty()) {
                    out.add(new SessionEffect.Pin(PinReason.SQL_PREPARE, w1));
                }
            }
            case "deallocate" -> {
                String name = w1.equals("prepare") ? word(t, 2) : w1;
                out.add(
                        name.equals("all")
                                ? new SessionEffect.UnpinAll(PinReason.SQL_PREPARE)
                                : new SessionEffect.Unpin(PinReason.SQL_PREPARE, name));
            }
            default -> {}
        }
    }

    private static void classifySet(List<Token> t, List<SessionEffect> out) {
        String w1 = word(t, 1);
        switch (w1) {
            case "local", "transaction", "constraints" -> {}
            case "role" -> out.add(new SessionEffect.Pin(PinReason.ROLE, "role"));
            case "session" -> {
                String w2 = word(t, 2);
                if (w2.equals("authorization")) {
                    out.add(new SessionEffect.Pin(PinReason.ROLE, "session authorization"));
                } else if (w2.equals("role")) {
                    out.add(new SessionEffect.Pin(PinReason.ROLE, "role"));
                } else if (w2.equals("characteristics")) {
                    out.add(new SessionEffect.Set("default_transaction_isolation"));
                } else if (!w2.isEmpty()) {
                    out.add(new SessionEffect.Set(w2));
                }
            }
            case "time" -> out.add(new SessionEffect.Set("timezone"));
            case "names" -> out.add(new SessionEffect.Set("client_encoding"));
            case "schema" -> out.add(new SessionEffect.Set("search_path"));
            case "" -> {}
            default -> out.add(new SessionEffect.Set(w1));
        }
    }

    private static String word(List<Token> t, int k) {
        return k < t.size() && t.get(k).word() ? t.get(k).text() : "";
    }

    private static int skipBlockComment(String sql, int i) {
        int depth = 0;
        int n = sql.length();
        while (i < n) {
            if (sql.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (sql.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return n;
    }

    private static int skipString(String sql, int i, boolean backslashEscapes) {
        int n = sql.length();
        int end = i + 1;
        while (end < n) {
            char c = sql.charAt(end);
            if (backslashEscapes && c == '\\') {
                end += 2;
                continue;
            }
            if (c == '\'') {
                if (end + 1 < n && sql.charAt(end + 1) == '\'') {
                    end += 2;
                    continue;
                }
                return end + 1;
            }
            end++;
        }
        return n;
    }

    /** The index of the closing '$' of a dollar-quote tag starting at {@code i}, or -1. */
    private static int dollarTagEnd(String sql, int i) {
        if (i > 0 && (Character.isLetterOrDigit(sql.charAt(i - 1)) || sql.charAt(i - 1) == '_')) {
            return -1;
        }
        int end = i + 1;
        while (end < sql.length() && (Character.isLetterOrDigit(sql.charAt(end)) || sql.charAt(end) == '_')) {
            if (end == i + 1 && Character.isDigit(sql.charAt(end))) {
                return -1;
            }
            end++;
        }
        return end < sql.length() && sql.charAt(end) == '$' ? end : -1;
    }
}
