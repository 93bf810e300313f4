package io.pgmux.admin;

import java.util.List;
import java.util.Optional;

/**
 * A portal of the admin console: the SQL a Bind gave it and the result formats the client asked for, and, once a SHOW
 * ran in it, that one snapshot and how many of its rows were sent. Execute with a row limit reads on from here, as
 * from a PostgreSQL portal, so that the batches a client fetches come from a single snapshot and neither repeat nor
 * skip a row.
 */
final class AdminPortal {
    private final String sql;
    private final short[] resultFormats;
    /** The SHOW result, from the portal's first Execute on; null before it, and for commands without rows. */
    private AdminTable result;
    /** How many rows of {@link #result} the client was sent. */
    private int sent;

    AdminPortal(String sql, short[] resultFormats) {
        this.sql = sql;
        this.resultFormats = resultFormats;
    }

    String sql() {
        return sql;
    }

    short[] resultFormats() {
        return resultFormats;
    }

    /** The snapshot this portal reads from: empty until a SHOW ran in it. */
    Optional<AdminTable> result() {
        return Optional.ofNullable(result);
    }

    /** Keeps the result of the portal's first Execute; every later Execute reads on from it. */
    void open(AdminTable table) {
        result = table;
    }

    /**
     * The next rows, at most {@code maxRows} of them ({@code maxRows} ≤ 0: all that are left, as PostgreSQL reads a
     * row limit); none once every row was sent.
     */
    List<List<Object>> fetch(int maxRows) {
        List<List<Object>> rows = result.rows();
        int left = rows.size() - sent;
        int end = sent + (maxRows <= 0 ? left : Math.min(left, maxRows));
        List<List<Object>> batch = rows.subList(sent, end);
        sent = end;
        return batch;
    }
}
