package io.pgmux.testkit;

import static io.pgmux.testkit.SharedPostgresIT.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class PostgresExtensionIT {
    private final TestPostgres fromConstructor;

    PostgresExtensionIT(TestPostgres pg) {
        this.fromConstructor = pg;
    }

    @Test
    void resolvesTheSharedServer(TestPostgres pg) throws SQLException {
        assertSame(TestPostgres.shared(), pg);
        assertSame(pg, fromConstructor);
        try (Connection c = pg.connect("postgres")) {
            assertEquals("1", query(c, "SELECT 1"));
        }
    }
}
