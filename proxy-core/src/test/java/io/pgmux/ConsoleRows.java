package io.pgmux;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the admin console answers, as an operator reads it: the rows of a {@code SHOW} command as column name → text,
 * its column names, and the row about one pool, database, client or setting.
 */
final class ConsoleRows {
    private ConsoleRows() {}

    /** Every row of {@code sql} as column name → value. */
    static List<Map<String, String>> show(Connection c, String sql) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                Map<String, String> row = new HashMap<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.put(md.getColumnName(i), rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    /** As {@link #show}, for lambdas that may not throw: an SQLException fails the test. */
    static List<Map<String, String>> showUnchecked(Connection c, String sql) {
        try {
            return show(c, sql);
        } catch (SQLException e) {
            throw new AssertionError(sql + " failed: " + e, e);
        }
    }

    /** The column names of {@code sql}'s result, in order. */
    static List<String> columns(Connection c, String sql) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                names.add(md.getColumnName(i));
            }
        }
        return names;
    }

    /** The first row whose {@code column} is {@code value}; fails naming what it saw when there is none. */
    static Map<String, String> find(List<Map<String, String>> rows, String column, String value) {
        return rows.stream()
                .filter(r -> value.equals(r.get(column)))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no row with " + column + " = " + value + " in " + rows));
    }

    /** The row of {@code sql} whose {@code column} is {@code value}. */
    static Map<String, String> showRow(Connection c, String sql, String column, String value) throws SQLException {
        return find(show(c, sql), column, value);
    }
}
