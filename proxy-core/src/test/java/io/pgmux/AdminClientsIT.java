package io.pgmux;

import static io.pgmux.ConsoleRows.columns;
import static io.pgmux.ConsoleRows.find;
import static io.pgmux.ConsoleRows.show;
import static io.pgmux.ConsoleRows.showUnchecked;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The admin console's SHOW CLIENTS and SHOW SERVERS, with clients idle, in a transaction and pinned. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class AdminClientsIT {
    private static final String APP = "it_admin_clients_app";
    private static final String APP_PW = "app-pw";
    private static final String ADMIN = "pgmux";
    private static final String ADMIN_PW = "admin-pw";
    private static final String DB = "it_admin_clients";

    private static final List<String> COLUMNS = List.of(
            "type",
            "user",
            "database",
            "state",
            "addr",
            "port",
            "local_addr",
            "local_port",
            "connect_time",
            "request_time",
            "wait",
            "wait_us",
            "close_needed",
            "ptr",
            "link",
            "remote_pid",
            "tls",
            "application_name",
            "prepared_statements");

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(APP, APP_PW);
        pg.createDatabase(DB, APP);
        return "admin.users = [\"" + ADMIN + "\"]\n" + "auth.users {\n" + user(APP, APP_PW) + user(ADMIN, ADMIN_PW)
                + "}\n" + "databases {\n" + database(DB, pg, "pool { size = 4 }") + "}";
    });

    private static Connection app(String applicationName) throws SQLException {
        return pgmux.proxy().connect(DB, APP, APP_PW, "ApplicationName=" + applicationName);
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void showClientsAndServers(String mode) throws Exception {
        try (Connection pinned = app("it-pinned");
                Connection holder = app("it-holder");
                Connection idle = app("it-idle");
                Connection c = pgmux.proxy().connect("pgmux", ADMIN, ADMIN_PW, "preferQueryMode=" + mode)) {
            try (Statement st = pinned.createStatement()) {
                st.execute("LISTEN x");
            }
            holder.setAutoCommit(false);
            int backendPid;
            try (Statement st = holder.createStatement();
                    ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                assertTrue(rs.next());
                backendPid = rs.getInt(1);
            }
            // Both other servers are leased: this one gets a server of its own and gives it back (idle).
            try (Statement st = idle.createStatement()) {
                st.execute("SELECT 1");
            }

            List<String> clientColumns = new ArrayList<>(COLUMNS);
            clientColumns.add("pin_reasons");
            assertEquals(clientColumns, columns(c, "SHOW CLIENTS"));
            assertEquals(COLUMNS, columns(c, "show servers;"));

            List<Map<String, String>> clients = show(c, "SHOW CLIENTS");
            for (Map<String, String> row : clients) {
                assertEquals("C", row.get("type"), row.toString());
                assertEquals("0", row.get("wait"), row.toString());
                assertEquals("0", row.get("remote_pid"), row.toString());
                assertEquals("127.0.0.1", row.get("local_addr"), row.toString());
                assertEquals(String.valueOf(pgmux.port()), row.get("local_port"), row.toString());
                assertTrue(row.get("ptr").startsWith("c"), row.toString());
            }

            Map<String, String> idleRow = find(clients, "application_name", "it-idle");
            assertEquals(APP, idleRow.get("user"));
            assertEquals(DB, idleRow.get("database"));
            assertEquals("idle", idleRow.get("state"), idleRow.toString());
            assertNull(idleRow.get("link"), idleRow.toString());
            assertEquals("", idleRow.get("pin_reasons"), idleRow.toString());
            assertEquals("127.0.0.1", idleRow.get("addr"));
            assertTrue(Integer.parseInt(idleRow.get("port")) > 0, idleRow.toString());
            assertTrue(idleRow.get("connect_time").endsWith(" UTC"), idleRow.toString());

            Map<String, String> holderRow = find(clients, "application_name", "it-holder");
            assertEquals("active", holderRow.get("state"), holderRow.toString());
            assertNotNull(holderRow.get("link"), holderRow.toString());
            assertTrue(holderRow.get("link").startsWith("s"), holderRow.toString());
            assertEquals("", holderRow.get("pin_reasons"), holderRow.toString());

            // LISTEN pins the client to its server: it keeps it between transactions.
            Map<String, String> pinnedRow = find(clients, "application_name", "it-pinned");
            assertEquals("listen(x)", pinnedRow.get("pin_reasons"), pinnedRow.toString());
            assertEquals("active", pinnedRow.get("state"), pinnedRow.toString());
            assertNotNull(pinnedRow.get("link"), pinnedRow.toString());
            assertNotEquals(holderRow.get("link"), pinnedRow.get("link"));

            Map<String, String> adminRow = find(clients, "database", "pgmux");
            assertEquals(ADMIN, adminRow.get("user"));
            assertEquals("active", adminRow.get("state"), adminRow.toString());
            assertNull(adminRow.get("link"), adminRow.toString());

            List<Map<String, String>> servers = show(c, "SHOW SERVERS");
            for (Map<String, String> row : servers) {
                assertEquals("S", row.get("type"), row.toString());
                assertEquals(APP, row.get("user"), row.toString());
                assertEquals(DB, row.get("database"), row.toString());
                assertEquals(String.valueOf(pgmux.postgres().port()), row.get("port"), row.toString());
                assertTrue(row.get("ptr").startsWith("s"), row.toString());
            }
            Map<String, String> holderServer = find(servers, "ptr", holderRow.get("link"));
            assertEquals("active", holderServer.get("state"), holderServer.toString());
            assertEquals(holderRow.get("ptr"), holderServer.get("link"), holderServer.toString());
            assertEquals(String.valueOf(backendPid), holderServer.get("remote_pid"), holderServer.toString());

            Map<String, String> pinnedServer = find(servers, "ptr", pinnedRow.get("link"));
            assertEquals("active", pinnedServer.get("state"), pinnedServer.toString());
            assertEquals(pinnedRow.get("ptr"), pinnedServer.get("link"), pinnedServer.toString());

            Map<String, String> idleServer = find(servers, "state", "idle");
            assertNull(idleServer.get("link"), idleServer.toString());
            assertTrue(Integer.parseInt(idleServer.get("remote_pid")) > 0, idleServer.toString());
            assertEquals("0", idleServer.get("close_needed"), idleServer.toString());

            // A transaction ends: the server goes back to the pool and both sides say so.
            holder.rollback();
            Map<String, String> released = Await.until(
                    "the holder's server to be idle",
                    Duration.ofSeconds(10),
                    () -> find(showUnchecked(c, "SHOW SERVERS"), "ptr", holderRow.get("link")),
                    row -> "idle".equals(row.get("state")));
            assertNull(released.get("link"), released.toString());
            assertEquals(
                    "idle",
                    find(show(c, "SHOW CLIENTS"), "ptr", holderRow.get("ptr")).get("state"));

            // A client that leaves is no longer listed.
            idle.close();
            Await.until(
                    "the closed client to leave SHOW CLIENTS",
                    Duration.ofSeconds(10),
                    () -> showUnchecked(c, "SHOW CLIENTS").stream()
                            .noneMatch(r -> idleRow.get("ptr").equals(r.get("ptr"))));
        }
    }
}
