package io.pgmux.load;

import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * What each client runs as one transaction, modelled on pgbench's built-in scripts. Statements use {@code $n}
 * parameters; {@link QueryProtocol#SIMPLE} inlines them (they are always integers).
 */
public enum Workload {
    /** {@code SELECT 1}: the proxy's own cost, nothing for PostgreSQL to do. */
    SELECT1,
    /** pgbench {@code -S}: one primary-key lookup in pgbench_accounts. */
    SELECT_ONLY,
    /** pgbench's default TPC-B-like transaction: BEGIN, three UPDATEs, a SELECT, an INSERT, END. */
    TPCB_LIKE,
    /** A new connection for every transaction ({@code SELECT 1}): logins per second, like pgbench {@code -C}. */
    CONNECT_STORM;

    static final Statement SELECT_ONE = new Statement("SELECT 1");
    static final Statement SELECT_ACCOUNT = new Statement("SELECT abalance FROM pgbench_accounts WHERE aid = $1");
    static final Statement BEGIN = new Statement("BEGIN");
    static final Statement UPDATE_ACCOUNT =
            new Statement("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2");
    static final Statement UPDATE_TELLER =
            new Statement("UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2");
    static final Statement UPDATE_BRANCH =
            new Statement("UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2");
    static final Statement INSERT_HISTORY = new Statement(
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)");
    static final Statement END = new Statement("END");

    /** The statements of one transaction, with fresh random parameters ({@code scale} as in pgbench -s). */
    List<Call> nextTransaction(RandomGenerator random, int scale) {
        return switch (this) {
            case SELECT1, CONNECT_STORM -> List.of(new Call(SELECT_ONE));
            case SELECT_ONLY -> List.of(new Call(SELECT_ACCOUNT, between(random, 1, 100_000 * scale)));
            case TPCB_LIKE -> {
                String aid = between(random, 1, 100_000 * scale);
                String bid = between(random, 1, scale);
                String tid = between(random, 1, 10 * scale);
                String delta = between(random, -5000, 5000);
                yield List.of(
                        new Call(BEGIN),
                        new Call(UPDATE_ACCOUNT, delta, aid),
                        new Call(SELECT_ACCOUNT, aid),
                        new Call(UPDATE_TELLER, delta, tid),
                        new Call(UPDATE_BRANCH, delta, bid),
                        new Call(INSERT_HISTORY, tid, bid, aid, delta),
                        new Call(END));
            }
        };
    }

    private static String between(RandomGenerator random, int low, int high) {
        return Integer.toString(random.nextInt(low, high + 1));
    }

    /** The command-line spelling: {@code select-only}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Workload parse(String text) {
        for (Workload w : values()) {
            if (w.label().equals(text)) {
                return w;
            }
        }
        throw new IllegalArgumentException(
                "unknown workload \"" + text + "\" (select1, select-only, tpcb-like," + " connect-storm)");
    }

    /** One SQL statement with {@code $n} parameters; identity picks its prepared-statement name. */
    record Statement(String sql) {}

    /** A statement and the text of its parameters. */
    record Call(Statement statement, String... parameters) {
        /** The SQL with the parameters written in, for the simple protocol (they are integers: no quoting). */
        String inlined() {
            String sql = statement.sql();
            for (int i = parameters.length; i >= 1; i--) {
                sql = sql.replace("$" + i, parameters[i - 1]);
            }
            return sql;
        }
    }
}
