package io.pgmux.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.PgmuxServer;
import io.pgmux.config.ConfigLoader;
import io.pgmux.metrics.Scrape;
import io.pgmux.testkit.TestPostgres;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Prometheus rules (docker/monitoring/alerts.yml) and the Grafana dashboard
 * (docker/monitoring/grafana/dashboards/pgmux.json) use only metric names that a running pgmux serves: pgmux is
 * started in this JVM with metrics on, one transaction and one error make the per-pool series appear, and every
 * {@code pgmux_*} name in a PromQL expression must be the name of a sample in the scrape ({@code _bucket},
 * {@code _sum}, {@code _count} and {@code _max} are sample names of a histogram family, and a histogram's bare family
 * name is not a sample, so it counts as missing).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class MonitoringFilesIT {
    private static final String USER = "it_monitoring";
    private static final String PASSWORD = "monitoring-pw";
    private static final String DB = "it_monitoring";
    private static final Pattern METRIC = Pattern.compile("(?<![A-Za-z0-9_:])(pgmux_[a-zA-Z0-9_:]+)");
    private static final Pattern HISTOGRAM_SAMPLE = Pattern.compile("(.+)_(bucket|sum|count)");

    private static Scrape scrape;

    @BeforeAll
    static void scrapeAPgmuxThatRanATransactionAndAnError() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        String hocon = "pgmux {\n"
                + "  listen { host = \"127.0.0.1\", port = 0 }\n"
                + "  metrics { enabled = true, host = \"127.0.0.1\", port = 0 }\n"
                + "  auth.users { \"" + USER + "\" { password = \"" + PASSWORD + "\" } }\n"
                + "  databases { \"" + DB + "\" { host = \"" + pg.host() + "\", port = " + pg.port()
                + ", pool { size = 2 } } }\n"
                + "}\n";
        try (PgmuxServer server = new PgmuxServer(ConfigLoader.fromString(hocon))) {
            InetSocketAddress address = server.start();
            Properties props = new Properties();
            props.setProperty("user", USER);
            props.setProperty("password", PASSWORD);
            props.setProperty("connectTimeout", "10");
            props.setProperty("socketTimeout", "30");
            try (Connection c = DriverManager.getConnection(
                            "jdbc:postgresql://127.0.0.1:" + address.getPort() + "/" + DB, props);
                    Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("SELECT 1");
                c.commit();
                c.setAutoCommit(true);
                assertThrows(SQLException.class, () -> s.execute("SELECT 1/0"));
            }
            InetSocketAddress metrics = server.metricsAddress().orElseThrow();
            HttpClient http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.getPort() + "/metrics"))
                            .timeout(Duration.ofSeconds(10))
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            scrape = Scrape.parse(response.body());
        }
    }

    @Test
    void alertRulesUseOnlyServedMetrics() {
        Map<String, Object> alerts = DockerFiles.yaml("monitoring/alerts.yml");
        List<String> expressions = new ArrayList<>();
        List<String> alertNames = new ArrayList<>();
        DockerFiles.walk(alerts, (key, value) -> {
            if (key.equals("expr")) {
                expressions.add(String.valueOf(value));
            } else if (key.equals("alert")) {
                alertNames.add(String.valueOf(value));
            }
        });
        assertTrue(alertNames.size() >= 6, alertNames.toString());
        assertEquals(alertNames.size(), expressions.size(), "every rule has an expr");
        Set<String> names = metricNames(expressions);
        for (String expected : List.of(
                "pgmux_server_connections",
                "pgmux_pool_max_size",
                "pgmux_client_connections",
                "pgmux_pool_wait_seconds_bucket",
                "pgmux_server_connect_failures_total",
                "pgmux_transaction_duration_seconds_bucket",
                "pgmux_errors_total")) {
            assertTrue(names.contains(expected), "alerts.yml uses " + expected);
        }
        assertAllServed("alerts.yml", names);
        assertTrue(
                expressions.stream().anyMatch(e -> e.contains("histogram_quantile") && e.contains("_bucket")),
                "quantiles are taken over _bucket");
    }

    @Test
    void grafanaDashboardUsesOnlyServedMetrics() {
        Map<String, Object> dashboard = DockerFiles.yaml("monitoring/grafana/dashboards/pgmux.json");
        List<String> queries = new ArrayList<>();
        DockerFiles.walk(dashboard, (key, value) -> {
            if ((key.equals("expr") || key.equals("query") || key.equals("definition")) && value instanceof String s) {
                queries.add(s);
            }
        });
        Set<String> names = metricNames(queries);
        assertTrue(names.size() >= 10, "the dashboard covers pools, waits, latency and errors: " + names);
        assertAllServed("pgmux.json", names);
    }

    @Test
    void theCheckRefusesNamesThatAreNotSamples() {
        assertFalse(served("pgmux_pool_wait_seconds"), "a histogram family is not a sample name");
        assertFalse(served("pgmux_no_such_metric_total"));
        assertTrue(served("pgmux_pool_wait_seconds_bucket"));
        assertTrue(served("pgmux_query_duration_seconds_count"));
    }

    private static Set<String> metricNames(List<String> expressions) {
        Set<String> names = new TreeSet<>();
        for (String expression : expressions) {
            Matcher m = METRIC.matcher(expression);
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    private static void assertAllServed(String file, Set<String> names) {
        List<String> missing = names.stream().filter(name -> !served(name)).toList();
        assertTrue(missing.isEmpty(), file + " uses metrics pgmux does not serve: " + missing + "\n" + scrape.text());
    }

    /**
     * Whether the scrape has a sample {@code name} of the test's pool (or, for errors, any pool); for {@code _bucket},
     * {@code _sum} and {@code _count}, the family must also be declared a histogram.
     */
    private static boolean served(String name) {
        boolean present = !scrape.samples(name, "database", DB).isEmpty();
        Matcher m = HISTOGRAM_SAMPLE.matcher(name);
        if (present && m.matches()) {
            String type = scrape.type(m.group(1));
            return "histogram".equals(type);
        }
        return present;
    }
}
