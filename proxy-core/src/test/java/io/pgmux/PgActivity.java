package io.pgmux;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * What PostgreSQL itself says its backends of a user are doing ({@code pg_stat_activity}), looked at on a connection of
 * the superuser's own: the ground truth the integration tests hold pgmux's behaviour against.
 */
final class PgActivity {
    private PgActivity() {}

    /** Whether a backend of {@code user} is running a query that contains {@code query} now. */
    static boolean isRunning(TestPostgres pg, String database, String user, String query) {
        return count(
                        pg,
                        database,
                        "SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND state = 'active' AND query LIKE ?",
                        user,
                        "%" + query + "%")
                > 0;
    }

    /** Backends of {@code user} in a transaction or running a query: server connections some client holds. */
    static int busyServers(TestPostgres pg, String database, String user) {
        return count(
                pg,
                database,
                "SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND backend_type = 'client backend'"
                        + " AND state <> 'idle'",
                user);
    }

    private static int count(TestPostgres pg, String database, String sql, String... parameters) {
        try (Connection c = pg.connect(database);
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                ps.setString(i + 1, parameters[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
