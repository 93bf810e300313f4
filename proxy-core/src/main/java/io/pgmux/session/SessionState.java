package io.pgmux.session;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * One client's session as it would be on a direct connection: the settings it asked for at startup
 * or SET since (restored on every server it lands on), and the session state that pins it to its
 * server (see {@link PinReason}). Touched only on the client's event loop.
 *
 * <p>Settings PostgreSQL reports with ParameterStatus are followed through those reports; other
 * settings given at startup are applied with {@code set_config} and remembered per server; a SET of
 * an unreported setting during the session pins the client instead.
 */
public final class SessionState {
    /** Reported settings a client may change, restored on each server. */
    private static final List<String> RESTORED = List.of(
            "application_name",
            "client_encoding",
            "DateStyle",
            "IntervalStyle",
            "TimeZone",
            "standard_conforming_strings",
            "search_path",
            "default_transaction_read_only");

    private static final Set<String> RESTORED_NAMES = caseInsensitive(RESTORED);

    private static final Set<String> NOT_SETTINGS = Set.of("user", "database", "options", "replication");

    /**
     * Wanted settings as immutable maps, one instance per distinct content: clients that want the same settings
     * share it, so a server that matched one of them is known to match the others ({@link ServerSettings}).
     */
    private static final Map<Map<String, String>, Map<String, String>> INTERNED = new ConcurrentHashMap<>();

    /** The names a pool's servers report, shared by all clients of pools whose servers report the same. */
    private static final Map<Set<String>, Set<String>> REPORTED = new ConcurrentHashMap<>();

    private static final int MAX_INTERNED = 10_000;

    private final Set<String> reported;
    /**
     * The settings the client wants (case-insensitive names). Most clients never change one: until this one does,
     * this is the interned map it shares with clients that want the same, then a map of its own.
     */
    private Map<String, String> wanted;

    private boolean wantedShared;
    /** Empty (and shared) until the first pin: most clients never pin. */
    private Map<PinReason, Set<String>> pins = Collections.emptyMap();
    /** Empty and shared until the first unpin waits for its transaction's end. */
    private List<SessionEffect> pendingUnpins = List.of();

    private boolean recheck;
    /** {@link #wanted} as an interned immutable map; null after a change, until next needed. */
    private Map<String, String> wantedSnapshot;

    private String applicationName;
    /** {@link #describePins()}; null after a change, until next needed. */
    private String pinsDescription = "";

    /**
     * @param serverDefaults what a fresh server of the pool reports
     * @param startup the client's startup parameters
     */
    public SessionState(Map<String, String> serverDefaults, Map<String, String> startup) {
        reported = REPORTED.computeIfAbsent(Set.copyOf(serverDefaults.keySet()), SessionState::caseInsensitive);
        Map<String, String> wanted = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (String name : RESTORED) {
            if (serverDefaults.containsKey(name)) {
                wanted.put(name, serverDefaults.get(name));
            }
        }
        startup.forEach((name, value) -> {
            if (!NOT_SETTINGS.contains(name) && !name.startsWith("_pq_.")) {
                wanted.put(name, value);
            }
        });
        String options = startup.get("options");
        if (options != null) {
            wanted.putAll(parseOptions(options));
        }
        this.wanted = wantedSnapshot = intern(wanted);
        this.wantedShared = true;
        this.applicationName = wanted.get("application_name");
    }

    private SessionState(SessionState start) {
        this.reported = start.reported;
        this.wanted = this.wantedSnapshot = start.wantedSnapshot;
        this.wantedShared = true;
        this.applicationName = start.applicationName;
    }

    /**
     * A new session as this one was when it was made: for the next client with the same server defaults and
     * startup parameters, without building and interning its settings again. Call it only on a session that no
     * client uses (it must still hold its start).
     */
    public SessionState fresh() {
        if (!wantedShared || !pins.isEmpty() || !pendingUnpins.isEmpty() || recheck) {
            throw new IllegalStateException("fresh() of a session in use");
        }
        return new SessionState(this);
    }

    /** {@code -c name=value} and {@code --name=value} pairs of the startup "options" parameter. */
    static Map<String, String> parseOptions(String options) {
        Map<String, String> settings = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (c == '\\' && i + 1 < options.length()) {
                word.append(options.charAt(++i));
            } else if (Character.isWhitespace(c)) {
                if (word.length() > 0) {
                    words.add(word.toString());
                    word.setLength(0);
                }
            } else {
                word.append(c);
            }
        }
        if (word.length() > 0) {
            words.add(word.toString());
        }
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            String pair = null;
            if (w.equals("-c") && i + 1 < words.size()) {
                pair = words.get(++i);
            } else if (w.startsWith("-c")) {
                pair = w.substring(2);
            } else if (w.startsWith("--")) {
                pair = w.substring(2);
            }
            if (pair != null && pair.indexOf('=') > 0) {
                String name = pair.substring(0, pair.indexOf('=')).replace('-', '_');
                settings.put(name, pair.substring(pair.indexOf('=') + 1));
            }
        }
        return settings;
    }

    /** The client's application_name, as it would see it; null when it has none. */
    public String applicationName() {
        return applicationName;
    }

    /** The values the client should see for reported settings (at login). */
    public String wanted(String name) {
        return wanted.get(name);
    }

    /** A ParameterStatus from the client's own server: the client changed (or reset) a setting. */
    public void onParameterStatus(String name, String value) {
        if (RESTORED_NAMES.contains(name) && !value.equals(wanted.get(name))) {
            if (wantedShared) {
                wanted = new TreeMap<>(wanted);
                wantedShared = false;
            }
            wanted.put(name, value);
            wantedSnapshot = null;
            if (name.equalsIgnoreCase("application_name")) {
                applicationName = value;
            }
        }
    }

    /**
     * The SQL that makes a server's settings match this client's, or null when they match.
     * {@code server} holds the server's current settings and is updated for the unreported ones
     * (the reported ones come back as ParameterStatus).
     */
    public String syncCommand(ServerSettings server) {
        Map<String, String> target = wantedSnapshot();
        if (server.matches(target)) {
            return null;
        }
        StringBuilder sets = new StringBuilder();
        List<String> resets = new ArrayList<>();
        wanted.forEach((name, value) -> {
            if (!value.equals(server.get(name)) && isSafeName(name)) {
                sets.append(sets.length() == 0 ? "SELECT " : ", ")
                        .append("pg_catalog.set_config(")
                        .append(literal(name))
                        .append(", ")
                        .append(literal(value))
                        .append(", false)");
                if (!reported.contains(name)) {
                    server.put(name, value);
                }
            }
        });
        for (String name : server.names()) {
            if (!reported.contains(name) && !wanted.containsKey(name)) {
                resets.add(name);
                server.remove(name);
            }
        }
        if (sets.length() == 0 && resets.isEmpty()) {
            server.matched(target);
            return null;
        }
        StringBuilder sql = new StringBuilder(sets);
        for (String name : resets) {
            if (sql.length() > 0) {
                sql.append("; ");
            }
            sql.append("RESET ").append(name);
        }
        return sql.toString();
    }

    /**
     * Records the effects of a statement the client sent; pins take effect at once, unpins once the
     * transaction has ended without error ({@link #commit}). Returns the reasons newly pinned.
     */
    public List<PinReason> apply(List<SessionEffect> effects) {
        List<PinReason> newlyPinned = new ArrayList<>(0);
        for (SessionEffect effect : effects) {
            if (effect instanceof SessionEffect.Pin pin) {
                if (pin(pin.reason(), pin.key())) {
                    newlyPinned.add(pin.reason());
                }
            } else if (effect instanceof SessionEffect.Set set) {
                if (!reported.contains(set.name())
                        && pin(PinReason.SET, set.name().toLowerCase(Locale.ROOT))) {
                    newlyPinned.add(PinReason.SET);
                }
            } else if (effect instanceof SessionEffect.Recheck r) {
                recheck |= pins.containsKey(r.reason());
            } else {
                if (!(pendingUnpins instanceof ArrayList)) {
                    pendingUnpins = new ArrayList<>(2);
                }
                pendingUnpins.add(effect);
            }
        }
        return newlyPinned;
    }

    private boolean pin(PinReason reason, String key) {
        boolean first = !pins.containsKey(reason);
        pinsDescription = null;
        if (!(pins instanceof EnumMap)) {
            pins = new EnumMap<>(PinReason.class);
        }
        pins.computeIfAbsent(reason, r -> new TreeSet<>()).add(key);
        return first;
    }

    /**
     * The transaction ended (ReadyForQuery 'I'). Without an error, pending unpins take effect.
     * Returns true when server-side settings pgmux applied were reset too (RESET ALL, DISCARD ALL),
     * so the caller forgets them for that server.
     */
    public boolean commit(boolean failed) {
        boolean settingsReset = false;
        if (!failed && !pendingUnpins.isEmpty()) {
            pinsDescription = null;
            for (SessionEffect effect : pendingUnpins) {
                if (effect instanceof SessionEffect.Unpin unpin) {
                    unpin(unpin.reason(), unpin.key());
                } else if (effect instanceof SessionEffect.Reset reset) {
                    unpin(PinReason.SET, reset.name().toLowerCase(Locale.ROOT));
                } else if (effect instanceof SessionEffect.UnpinAll all) {
                    pins.remove(all.reason());
                    settingsReset |= all.reason() == PinReason.SET;
                } else if (effect instanceof SessionEffect.DiscardAll) {
                    pins.clear();
                    settingsReset = true;
                }
            }
        }
        if (!pendingUnpins.isEmpty()) {
            pendingUnpins.clear();
        }
        return settingsReset;
    }

    private void unpin(PinReason reason, String key) {
        Set<String> keys = pins.get(reason);
        if (keys != null) {
            pinsDescription = null;
            keys.remove(key.toLowerCase(Locale.ROOT));
            keys.remove(key);
            if (keys.isEmpty()) {
                pins.remove(reason);
            }
        }
    }

    /** True when state that a re-check query can see (advisory locks, temp tables) may be gone. */
    public boolean needsRecheck() {
        return recheck;
    }

    /** The SQL that counts this session's advisory locks and temporary relations. */
    public static String recheckQuery() {
        return "SELECT (SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory'"
                + " AND pid = pg_catalog.pg_backend_pid()),"
                + " (SELECT count(*) FROM pg_catalog.pg_class WHERE relnamespace = pg_catalog.pg_my_temp_schema())";
    }

    /** The result of {@link #recheckQuery()}. */
    public void onRecheck(long advisoryLocks, long tempRelations) {
        recheck = false;
        pinsDescription = null;
        if (advisoryLocks == 0) {
            pins.remove(PinReason.ADVISORY_LOCK);
        }
        if (tempRelations == 0) {
            pins.remove(PinReason.TEMP_TABLE);
        }
    }

    public boolean isPinned() {
        return !pins.isEmpty();
    }

    public Set<PinReason> pinReasons() {
        return pins.keySet();
    }

    /**
     * The settings the client wants, as the immutable map it shares with every client that wants the same (what
     * {@link ServerSettings} remembers a server matched).
     */
    Map<String, String> wantedSnapshot() {
        if (wantedSnapshot == null) {
            wantedSnapshot = intern(wanted);
        }
        return wantedSnapshot;
    }

    /** The shared immutable copy of {@code settings} (case-insensitive names, like the original). */
    private static Map<String, String> intern(Map<String, String> settings) {
        if (INTERNED.size() >= MAX_INTERNED) {
            INTERNED.clear();
        }
        SortedMap<String, String> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        copy.putAll(settings);
        return INTERNED.computeIfAbsent(Collections.unmodifiableSortedMap(copy), k -> k);
    }

    private static Set<String> caseInsensitive(Collection<String> names) {
        SortedSet<String> set = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        set.addAll(names);
        return Collections.unmodifiableSortedSet(set);
    }

    /** e.g. {@code listen(jobs) set(statement_timeout)}; empty when not pinned. */
    public String describePins() {
        if (pinsDescription == null) {
            pinsDescription = describe(pins);
        }
        return pinsDescription;
    }

    private static String describe(Map<PinReason, Set<String>> pins) {
        return pins.entrySet().stream()
                .map(e -> e.getKey().label()
                        + (e.getValue().stream().anyMatch(k -> !k.isEmpty())
                                ? "(" + String.join(",", e.getValue()) + ")"
                                : ""))
                .collect(Collectors.joining(" "));
    }

    private static boolean isSafeName(String name) {
        return name.matches("[A-Za-z_][A-Za-z0-9_.]*");
    }

    /** An escape-string literal, right whatever standard_conforming_strings says. */
    private static String literal(String value) {
        return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }
}
