package io.pgmux;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * One-line JDBC for the integration tests: the single value a query returns, a statement run for its effect, and the
 * PostgreSQL backend a connection (through pgmux: its current server) runs on.
 */
final class Sql {
    private Sql() {}

    /** The first column of the first row of {@code sql}, run on {@code st}; fails when there is no row. */
    static int queryInt(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), "no row from " + sql);
            return rs.getInt(1);
        }
    }

    /** The first column of the first row of {@code sql}; fails when there is no row. */
    static int queryInt(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            return queryInt(st, sql);
        }
    }

    /** The first column of the first row of {@code sql}; fails when there is no row. */
    static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), "no row from " + sql);
            return rs.getLong(1);
        }
    }

    /** The first column of the first row of {@code sql} as text; fails when there is no row. */
    static String queryString(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), "no row from " + sql);
            return rs.getString(1);
        }
    }

    /** Runs {@code sql} for its effect. */
    static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** The pid of the PostgreSQL backend that runs this statement. */
    static int backendPid(Connection c) throws SQLException {
        return queryInt(c, "SELECT pg_backend_pid()");
    }
}
