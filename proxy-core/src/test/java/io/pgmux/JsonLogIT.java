package io.pgmux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgmux.testkit.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code PGMUX_LOG_FORMAT=json}: the shaded jar, run as {@code bin/pgmux} runs it, writes one JSON object per line,
 * among them a client's login and logout, a server's connect and close with their reasons, and the errors it sent
 * to clients with their SQLSTATEs.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JsonLogIT {
    private static final String USER = "it_jsonlog";
    private static final String DB = "it_jsonlog";
    private static final String PASSWORD = "jsonlog-pw";

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void everyLineIsAJsonObjectWithTheLifecycleAndTheErrors(@TempDir Path dir) throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        int port = PgmuxProcess.freePort();
        Path config = dir.resolve("pgmux.conf");
        Files.writeString(
                config,
                "pgmux {\n  listen { host = \"127.0.0.1\", port = " + port + " }\n  metrics.enabled = false\n"
                        + "  shutdown-timeout = 5s\n"
                        + "  auth.users { \"" + USER + "\" { password = \"" + PASSWORD + "\" } }\n"
                        + "  databases { \"" + DB + "\" { host = \"" + pg.host() + "\", port = " + pg.port()
                        + ", pool.server-idle-timeout = 1s } }\n}\n");
        Path log;
        try (PgmuxProcess pgmux = PgmuxProcess.start(dir, config, Map.of("PGMUX_LOG_FORMAT", "json"))) {
            log = pgmux.logFile();
            try (Connection c = connect(port, DB, PASSWORD);
                    Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT 1")) {
                assertTrue(rs.next());
            }
            SQLException wrong = assertThrows(SQLException.class, () -> connect(port, DB, "not-it"));
            assertEquals("28P01", wrong.getSQLState());
            SQLException nowhere =
                    assertThrows(SQLException.class, () -> connect(port, "it_jsonlog_nowhere", PASSWORD));
            assertEquals("3D000", nowhere.getSQLState());
            pgmux.awaitLog(
                    "the idle server to be closed (server-idle-timeout = 1s)",
                    "reason=IDLE_TIMEOUT",
                    Duration.ofSeconds(20));

            pgmux.stopAndExpectExitZero();
        }

        List<JsonNode> events = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            JsonNode event = json.readTree(line);
            assertTrue(event.isObject(), "one JSON object per line: " + line);
            for (String field : List.of("timestamp", "level", "threadName", "loggerName", "formattedMessage")) {
                assertTrue(event.hasNonNull(field), field + " in " + line);
            }
            events.add(event);
        }
        assertLogged(events, "INFO", "io.pgmux.client.ClientSession", "logged in: user=" + USER);
        assertLogged(events, "INFO", "io.pgmux.client.ClientSession", "disconnected: user=" + USER);
        assertLogged(events, "INFO", "io.pgmux.client.ClientSession", "reason=client sent Terminate");
        assertLogged(events, "INFO", "io.pgmux.server.ServerConnection", "connected server s1 pool=" + DB + "/" + USER);
        assertLogged(events, "INFO", "io.pgmux.server.ServerConnection", "reason=IDLE_TIMEOUT");
        assertLogged(events, "INFO", "io.pgmux.client.ClientSession", "(SQLSTATE 28P01)");
        assertLogged(events, "INFO", "io.pgmux.client.ClientSession", "(SQLSTATE 3D000)");
        assertLogged(events, "INFO", "io.pgmux.PgmuxServer", "pgmux stopped");
    }

    private static void assertLogged(List<JsonNode> events, String level, String logger, String text) {
        assertTrue(
                events.stream()
                        .anyMatch(e -> e.get("level").asText().equals(level)
                                && e.get("loggerName").asText().equals(logger)
                                && e.get("formattedMessage").asText().contains(text)),
                () -> level + " " + logger + " \"" + text + "\" in\n"
                        + String.join(
                                "\n", events.stream().map(JsonNode::toString).toList()));
    }

    private static Connection connect(int port, String database, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", USER);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "30");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
    }
}
