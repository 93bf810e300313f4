package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** libpq clients through pgmux: psql (queries and COPY) and pgbench (initialisation and a short run per protocol). */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClientToolsIT {
    private static final String USER = "it_tools";
    private static final String DB = "it_tools";
    private static final String PASSWORD = "tools-pw";
    private static final Duration PROCESS_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        // Two servers for pgbench's four clients: they take turns.
        return "auth.users {\n" + user(USER, PASSWORD) + "}\n" + "databases {\n"
                + database(DB, pg, "pool { size = 2, query-wait-timeout = 10s }") + "}";
    });

    @Test
    @Order(1)
    void psqlRunsAQuery() throws Exception {
        Run run = psql(null, "-c", "SELECT 6 * 7, current_user");
        assertEquals(0, run.exitCode(), run.output());
        assertEquals("42|" + USER, run.output().trim());
    }

    @Test
    @Order(2)
    void psqlCopiesRowsInAndOut() throws Exception {
        Run create = psql(null, "-c", "DROP TABLE IF EXISTS copied", "-c", "CREATE TABLE copied (n int, t text)");
        assertEquals(0, create.exitCode(), create.output());
        assertTrue(create.output().contains("CREATE TABLE"), create.output());

        StringBuilder rows = new StringBuilder();
        for (int n = 1; n <= 5_000; n++) {
            rows.append(n).append(",row ").append(n).append('\n');
        }
        Run copyIn = psql(rows.toString(), "-c", "COPY copied (n, t) FROM STDIN WITH (FORMAT csv)");
        assertEquals(0, copyIn.exitCode(), copyIn.output());
        assertEquals("COPY 5000", copyIn.output().trim());
        try (Connection c = pgmux.postgres().connect(DB);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT count(*), sum(n), count(*) FILTER (WHERE t = 'row ' || n)" + " FROM copied")) {
            rs.next();
            assertEquals(5_000, rs.getInt(1));
            assertEquals(5_000L * 5_001 / 2, rs.getLong(2));
            assertEquals(5_000, rs.getInt(3));
        }

        Run copyOut = psql(null, "-c", "COPY (SELECT n FROM copied ORDER BY n) TO STDOUT");
        assertEquals(0, copyOut.exitCode(), copyOut.output());
        List<String> lines = copyOut.output().lines().toList();
        assertEquals(5_000, lines.size());
        assertEquals("1", lines.get(0));
        assertEquals("5000", lines.get(4_999));

        // A COPY the server rejects half-way: the error reaches psql, and the connection's server is clean after.
        Run badCopy = psql("1,ok\nnot a number,bad\n", "-c", "COPY copied (n, t) FROM STDIN WITH (FORMAT csv)");
        assertTrue(badCopy.exitCode() != 0, "psql reports the failed COPY");
        assertTrue(badCopy.output().contains("invalid input syntax for type integer"), badCopy.output());
        Run count = psql(null, "-c", "SELECT count(*) FROM copied");
        assertEquals("5000", count.output().trim(), "the failed COPY added nothing");
    }

    @Test
    @Order(3)
    void pgbenchInitialisesAndRunsWithTheSimpleProtocol() throws Exception {
        initPgbench();
        assertPgbenchRuns("simple");
    }

    @Test
    @Order(4)
    void pgbenchRunsWithTheExtendedProtocol() throws Exception {
        initPgbench();
        assertPgbenchRuns("extended");
    }

    @Test
    @Order(5)
    void pgbenchRunsWithPreparedStatements() throws Exception {
        initPgbench();
        assertPgbenchRuns("prepared");
    }

    private void initPgbench() throws Exception {
        String pgbench = pgmux.postgres().pgbenchPath();
        assumeTrue(pgbench != null, "no pgbench on this machine");
        if (pgbenchTablesExist()) {
            return;
        }
        Run init = run(null, pgbench, "-i", "-q", "-s", "1", "-h", "127.0.0.1", "-p", port(), "-U", USER, DB);
        assertEquals(0, init.exitCode(), init.output());
        assertTrue(init.output().contains("done"), init.output());
    }

    private void assertPgbenchRuns(String protocol) throws Exception {
        String pgbench = pgmux.postgres().pgbenchPath();
        Run run = run(
                null,
                pgbench,
                "-S",
                "-M",
                protocol,
                "-T",
                "3",
                "-c",
                "4",
                "-j",
                "2",
                "-h",
                "127.0.0.1",
                "-p",
                port(),
                "-U",
                USER,
                DB);
        assertEquals(0, run.exitCode(), run.output());
        assertFalse(run.output().contains("aborted"), run.output());
        Matcher processed = PROCESSED.matcher(run.output());
        assertTrue(processed.find(), run.output());
        assertTrue(Long.parseLong(processed.group(1)) > 0, run.output());
        Matcher failed = FAILED.matcher(run.output());
        // pgbench before 15 prints no failure count: then the exit status alone says it.
        if (failed.find()) {
            assertEquals("0", failed.group(1), run.output());
        }
    }

    private boolean pgbenchTablesExist() throws SQLException {
        try (Connection c = pgmux.postgres().connect(DB);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT to_regclass('pgbench_accounts') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private Run psql(String stdin, String... args) throws Exception {
        String psql = pgmux.postgres().psqlPath();
        assumeTrue(psql != null, "no psql on this machine");
        List<String> command = new ArrayList<>(List.of(
                psql,
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                port(),
                "-U",
                USER,
                "-d",
                DB));
        command.addAll(List.of(args));
        return run(stdin, command.toArray(String[]::new));
    }

    private static String port() {
        return Integer.toString(pgmux.port());
    }

    /** What a finished process said (stdout and stderr together) and its exit status. */
    private record Run(int exitCode, String output) {}

    /** Runs a client program with the password in its environment; destroys it when it outlives the timeout. */
    private static Run run(String stdin, String... command) throws IOException, InterruptedException {
        Path output = Files.createTempFile("pgmux-it-", ".out");
        try {
            ProcessBuilder builder =
                    new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
            builder.environment().put("PGPASSWORD", PASSWORD);
            builder.environment().put("PGCONNECT_TIMEOUT", "10");
            builder.environment().remove("PGSERVICE");
            Process process = builder.start();
            try {
                try (OutputStream in = process.getOutputStream()) {
                    if (stdin != null) {
                        in.write(stdin.getBytes(StandardCharsets.UTF_8));
                    }
                }
                if (!process.waitFor(PROCESS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AssertionError(String.join(" ", command) + " still ran after " + PROCESS_TIMEOUT + ":\n"
                            + Files.readString(output));
                }
                return new Run(process.exitValue(), Files.readString(output));
            } finally {
                if (process.isAlive()) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
