package io.pgmux.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgmux.testkit.TestPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker/entrypoint.sh, the container's start script, run with {@code sh} outside Docker against the shaded jar:
 * configured by {@code PGMUX_*} variables and a mounted-style config file, it serves clients and /metrics, and
 * SIGTERM (what {@code docker stop} sends to PID 1) reaches pgmux, which drains and exits 0.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EntrypointIT {
    private static final String USER = "it_entrypoint";
    private static final String PASSWORD = "entrypoint-pw";
    private static final String DB = "it_entrypoint";
    private static final Duration START_DEADLINE = Duration.ofSeconds(45);
    private static final Duration STOP_DEADLINE = Duration.ofSeconds(30);

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void startsFromEnvironmentAndConfigFileServesAndStopsCleanlyOnSigterm(@TempDir Path dir) throws Exception {
        Path jar = DockerFiles.repoRoot().resolve("proxy-core/target/pgmux.jar");
        assumeTrue(Files.isRegularFile(jar), "no shaded jar at " + jar + " (run mvn package first)");
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);

        // What a mounted /etc/pgmux/pgmux.conf holds; the environment overrides its host, port and password.
        Path config = dir.resolve("pgmux.conf");
        Files.writeString(
                config,
                "pgmux {\n  shutdown-timeout = 5s\n  pool { size = 3 }\n"
                        + "  auth.users { \"" + USER + "\" { password = \"wrong-until-env\" } }\n"
                        + "  databases { appdb { host = \"unreachable.invalid\", port = 1 } }\n}\n");
        int port = DockerFiles.freePort();
        int metricsPort = DockerFiles.freePort();

        ProcessBuilder builder = new ProcessBuilder(
                        "sh", DockerFiles.docker("entrypoint.sh").toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("pgmux.log").toFile());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(name -> name.startsWith("PGMUX_") && !name.startsWith("PGMUX_TEST_"));
        env.put("PGMUX_JAR", jar.toString());
        env.put("PGMUX_CONFIG", config.toString());
        env.put("PGMUX_JAVA_OPTS", "-Xmx256m");
        env.put("PGMUX_LISTEN_HOST", "127.0.0.1");
        env.put("PGMUX_LISTEN_PORT", Integer.toString(port));
        env.put("PGMUX_METRICS_HOST", "127.0.0.1");
        env.put("PGMUX_METRICS_PORT", Integer.toString(metricsPort));
        env.put("PGMUX_DATABASES_APPDB_HOST", pg.host());
        env.put("PGMUX_DATABASES_APPDB_PORT", Integer.toString(pg.port()));
        env.put("PGMUX_DATABASES_APPDB_DBNAME", DB);
        env.put("PGMUX_AUTH_USERS_" + USER.toUpperCase() + "_PASSWORD", PASSWORD);
        String javaHome = System.getProperty("java.home");
        env.put("JAVA_HOME", javaHome);

        Process process = builder.start();
        try {
            awaitHealth(process, metricsPort, dir);

            Properties props = new Properties();
            props.setProperty("user", USER);
            props.setProperty("password", PASSWORD);
            props.setProperty("connectTimeout", "10");
            props.setProperty("socketTimeout", "30");
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/appdb", props);
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT current_database(), current_user")) {
                assertTrue(rs.next());
                assertEquals(DB, rs.getString(1), "appdb routes to the database PGMUX_DATABASES_APPDB_DBNAME names");
                assertEquals(USER, rs.getString(2));
            }

            HttpResponse<String> metrics = get(metricsPort, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(
                    metrics.body()
                            .lines()
                            .anyMatch(l -> l.startsWith("pgmux_transactions_total{")
                                    && l.contains("database=\"appdb\"")
                                    && !l.endsWith(" 0.0")),
                    "a transaction of appdb is counted:\n" + metrics.body());
            assertEquals(200, get(metricsPort, "/ready").statusCode());

            process.destroy(); // SIGTERM to sh's pid, which exec'ed java: pgmux itself
            assertTrue(
                    process.waitFor(STOP_DEADLINE.toSeconds(), TimeUnit.SECONDS),
                    "pgmux did not stop within " + STOP_DEADLINE + " of SIGTERM\n" + log(dir));
            assertEquals(0, process.exitValue(), "exit status after SIGTERM\n" + log(dir));
        } finally {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void refusesAnUnknownPgmuxVariableWithStatus2ButNotItsOwnJarVariable(@TempDir Path dir) throws Exception {
        Path jar = DockerFiles.repoRoot().resolve("proxy-core/target/pgmux.jar");
        assumeTrue(Files.isRegularFile(jar), "no shaded jar at " + jar);
        ProcessBuilder builder = new ProcessBuilder(
                        "sh", DockerFiles.docker("entrypoint.sh").toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("pgmux.log").toFile());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(name -> name.startsWith("PGMUX_") && !name.startsWith("PGMUX_TEST_"));
        env.put("PGMUX_JAR", jar.toString());
        env.put("PGMUX_CONFIG", dir.resolve("absent.conf").toString());
        env.put("PGMUX_POOL_SIZZE", "5");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        Process process = builder.start();
        try {
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "pgmux did not exit\n" + log(dir));
            String log = log(dir);
            assertEquals(2, process.exitValue(), log);
            assertTrue(log.contains("PGMUX_POOL_SIZZE"), log);
            assertTrue(!log.contains("PGMUX_JAR"), "PGMUX_JAR is the entrypoint's, not a setting:\n" + log);
        } finally {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void awaitHealth(Process process, int metricsPort, Path dir) throws Exception {
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("pgmux exited with " + process.exitValue() + "\n" + log(dir));
            }
            try {
                if (get(metricsPort, "/health").statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("/health did not answer 200 within " + START_DEADLINE + "\n" + log(dir));
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(5))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String log(Path dir) {
        try {
            return Files.readString(dir.resolve("pgmux.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
