package io.pgmux.docker;

import static io.pgmux.docker.DockerFiles.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pgmux.config.ConfigException;
import io.pgmux.config.ConfigLoader;
import io.pgmux.config.PgmuxConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment files under docker/ agree with pgmux: ports, probes, shutdown timing, and every {@code PGMUX_*}
 * variable they set names a real setting (checked by {@link ConfigLoader}, which refuses unknown ones), together with
 * the config file they mount.
 */
class DeploymentFilesTest {
    private static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

    // ---- Dockerfile and entrypoint ----------------------------------------------------------------

    @Test
    void dockerfileExposesBothPortsChecksHealthAndRunsTheEntrypointAsNonRoot() throws IOException {
        String dockerfile = Files.readString(DockerFiles.docker("Dockerfile"));
        assertTrue(dockerfile.matches("(?s).*\\nEXPOSE 6432 9930\\n.*"), "EXPOSE 6432 9930");
        assertTrue(dockerfile.contains("FROM eclipse-temurin:17-jre"), "runtime stage");
        assertTrue(dockerfile.contains("-pl proxy-core -am package"), "build stage builds the shaded jar");
        assertTrue(dockerfile.contains("http://127.0.0.1:9930/health"), "HEALTHCHECK on /health");
        assertTrue(dockerfile.contains("USER 10001"), "non-root user");
        assertTrue(dockerfile.contains("ENTRYPOINT [\"/opt/pgmux/entrypoint.sh\"]"), "exec-form entrypoint");
        assertTrue(
                dockerfile.contains("PGMUX_LISTEN_HOST=0.0.0.0") && dockerfile.contains("PGMUX_METRICS_HOST=0.0.0.0"));
        assertLoads("Dockerfile ENV", envOf(dockerfile), Optional.empty());

        String entrypoint = Files.readString(DockerFiles.docker("entrypoint.sh"));
        assertTrue(entrypoint.startsWith("#!/bin/sh\n"), "POSIX sh");
        assertTrue(entrypoint.contains("exec \"$java_bin\""), "exec java, so SIGTERM reaches pgmux");
        assertTrue(entrypoint.contains("-XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError"));
    }

    // ---- compose.yaml -----------------------------------------------------------------------------

    @Test
    void composeRunsPostgresPgmuxAndAnAppWithMonitoringAsAProfile(@TempDir Path dir) throws Exception {
        Map<String, Object> compose = DockerFiles.yaml("compose.yaml");
        Map<String, Object> services = at(compose, "services");
        assertTrue(
                services.keySet().containsAll(List.of("postgres", "pgmux", "app", "prometheus", "grafana")),
                services.keySet().toString());
        assertTrue(services.get("postgres") instanceof Map<?, ?> pg && pg.containsKey("healthcheck"));

        Map<String, Object> pgmux = at(services, "pgmux");
        assertEquals("..", at(pgmux, "build", "context"));
        assertEquals("docker/Dockerfile", at(pgmux, "build", "dockerfile"));
        List<String> ports = at(pgmux, "ports");
        assertTrue(ports.stream().anyMatch(p -> p.endsWith(":6432")), ports.toString());
        assertTrue(ports.stream().anyMatch(p -> p.endsWith(":9930")), ports.toString());
        List<String> volumes = at(pgmux, "volumes");
        assertTrue(volumes.contains("./pgmux.conf:/etc/pgmux/pgmux.conf:ro"), volumes.toString());
        assertTrue(
                durationOf(at(pgmux, "stop_grace_period")).compareTo(DEFAULT_SHUTDOWN_TIMEOUT) > 0,
                "stop_grace_period longer than shutdown-timeout");

        Map<String, Object> rawEnv = at(pgmux, "environment");
        Map<String, String> env = new LinkedHashMap<>();
        rawEnv.forEach((k, v) -> env.put(k, interpolate(String.valueOf(v))));
        PgmuxConfig config =
                assertLoads("compose pgmux environment", env, Optional.of(DockerFiles.docker("pgmux.conf")));
        assertEquals("postgres", config.databases().get("appdb").host());

        for (String monitoring : List.of("prometheus", "grafana")) {
            List<String> profiles = at(services, monitoring, "profiles");
            assertEquals(List.of("monitoring"), profiles, monitoring);
            List<String> mounts = at(services, monitoring, "volumes");
            for (String mount : mounts) {
                String source = mount.substring(0, mount.indexOf(':'));
                assertTrue(Files.exists(DockerFiles.docker(source)), monitoring + " mounts missing " + source);
            }
        }
    }

    @Test
    void composeLoadGeneratorIsTheHarnessPointedAtPgmux() throws Exception {
        Map<String, Object> services = at(DockerFiles.yaml("compose.yaml"), "services");
        Map<String, Object> app = at(services, "app");
        assertEquals("..", at(app, "build", "context"));
        assertEquals("docker/Dockerfile", at(app, "build", "dockerfile"));
        String target = at(app, "build", "target");
        String dockerfile = Files.readString(DockerFiles.docker("Dockerfile"));
        assertTrue(dockerfile.contains(" AS " + target + "\n"), "the Dockerfile has a stage " + target);
        assertTrue(dockerfile.contains("-pl benchmarks -am package"), "a stage builds the harness jar");
        // bin/pgmux-bench looks for its jar at ../benchmarks/target/pgmux-bench.jar
        assertTrue(dockerfile.contains("COPY bin/pgmux-bench /opt/pgmux/bin/pgmux-bench"));
        assertTrue(dockerfile.contains("/opt/pgmux/benchmarks/target/pgmux-bench.jar"));
        assertTrue(Files.readString(DockerFiles.repoRoot().resolve("bin/pgmux-bench"))
                .contains("benchmarks/target/pgmux-bench.jar"));
        String lastStage = dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
        assertTrue(lastStage.contains("ENTRYPOINT [\"/opt/pgmux/entrypoint.sh\"]"), "pgmux stays the default target");
        assertEquals("service_healthy", at(app, "depends_on", "pgmux", "condition"));

        // It reaches pgmux by its service name and container port, as a user pgmux knows, for a database it serves.
        Map<String, Object> rawEnv = at(app, "environment");
        Map<String, String> env = new LinkedHashMap<>();
        rawEnv.forEach((k, v) -> env.put(k, interpolate(String.valueOf(v))));
        assertEquals("pgmux", env.get("PGHOST"));
        List<String> pgmuxPorts = at(services, "pgmux", "ports");
        assertTrue(pgmuxPorts.stream().anyMatch(p -> p.endsWith(":" + env.get("PGPORT"))), pgmuxPorts.toString());
        Map<String, Object> pgmuxRawEnv = at(services, "pgmux", "environment");
        Map<String, String> pgmuxEnv = new LinkedHashMap<>();
        pgmuxRawEnv.forEach((k, v) -> pgmuxEnv.put(k, interpolate(String.valueOf(v))));
        PgmuxConfig config = assertLoads("compose pgmux", pgmuxEnv, Optional.of(DockerFiles.docker("pgmux.conf")));
        assertEquals(env.get("PGPORT"), Integer.toString(config.listen().port()));
        assertTrue(config.databases().containsKey(env.get("PGDATABASE")), env.get("PGDATABASE"));
        assertEquals(
                pgmuxEnv.get("PGMUX_AUTH_USERS_" + env.get("PGUSER").toUpperCase(java.util.Locale.ROOT) + "_PASSWORD"),
                env.get("PGPASSWORD"),
                "the harness logs in with the password pgmux has for its user");

        // Every option the command passes is one the harness knows, with values it accepts.
        List<String> command = at(app, "command");
        String script = String.join("\n", command);
        String options = Files.readString(benchmarkSource("LoadOptions.java"));
        String workloads = Files.readString(benchmarkSource("Workload.java"));
        String protocols = Files.readString(benchmarkSource("QueryProtocol.java"));
        Matcher flag = Pattern.compile("(--[a-z-]+)(?: ([^ \n-][^ \n]*))?").matcher(script);
        int flags = 0;
        while (flag.find()) {
            flags++;
            assertTrue(options.contains("\"" + flag.group(1) + "\""), "pgmux-bench has no option " + flag.group(1));
            String value = flag.group(2);
            if (flag.group(1).equals("--workload")) {
                assertTrue(workloads.contains(
                        "    " + value.toUpperCase(java.util.Locale.ROOT).replace('-', '_') + ","));
            } else if (flag.group(1).equals("--protocol")) {
                assertTrue(protocols.contains("    " + value.toUpperCase(java.util.Locale.ROOT) + ","));
            }
        }
        assertTrue(flags >= 5, script);
        assertTrue(script.contains("/opt/pgmux/bin/pgmux-bench --init"), "creates its tables first");
    }

    private static Path benchmarkSource(String file) {
        return DockerFiles.repoRoot()
                .resolve("benchmarks/src/main/java/io/pgmux/load")
                .resolve(file);
    }

    // ---- k8s --------------------------------------------------------------------------------------

    @Test
    void k8sSidecarHasProbesPortsAndDrainsWithinTheGracePeriod(@TempDir Path dir) throws Exception {
        Map<String, Object> deployment = DockerFiles.yaml("k8s/deployment.yaml");
        assertEquals("Deployment", deployment.get("kind"));
        Map<String, Object> podSpec = at(deployment, "spec", "template", "spec");
        List<Map<String, Object>> containers = at(podSpec, "containers");
        assertEquals(2, containers.size(), "an app container and the pgmux sidecar");
        Map<String, Object> pgmux = containers.stream()
                .filter(c -> "pgmux".equals(c.get("name")))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no pgmux container"));

        List<Map<String, Object>> ports = at(pgmux, "ports");
        assertEquals(
                List.of(6432, 9930),
                ports.stream().map(p -> p.get("containerPort")).toList());
        assertEquals("/ready", at(pgmux, "readinessProbe", "httpGet", "path"));
        assertEquals(9930, (Integer) at(pgmux, "readinessProbe", "httpGet", "port"));
        assertEquals("/health", at(pgmux, "livenessProbe", "httpGet", "path"));
        assertEquals(9930, (Integer) at(pgmux, "livenessProbe", "httpGet", "port"));

        // The config file the ConfigMap mounts, with the container's environment on top.
        Map<String, Object> configMap = DockerFiles.yaml("k8s/configmap.yaml");
        String mountedName = at(podSpec, "volumes", 0, "configMap", "name");
        assertEquals((String) at(configMap, "metadata", "name"), mountedName);
        List<Map<String, Object>> mounts = at(pgmux, "volumeMounts");
        assertTrue(mounts.stream().anyMatch(m -> "/etc/pgmux".equals(m.get("mountPath"))), mounts.toString());
        Path conf = dir.resolve("pgmux.conf");
        Files.writeString(conf, (String) at(configMap, "data", "pgmux.conf"));

        Map<String, Object> secret = DockerFiles.yaml("k8s/secret.yaml");
        Map<String, String> secretData = at(secret, "stringData");
        Map<String, String> env = new LinkedHashMap<>();
        List<Map<String, Object>> envList = at(pgmux, "env");
        for (Map<String, Object> e : envList) {
            String name = (String) e.get("name");
            if (e.containsKey("value")) {
                env.put(name, String.valueOf(e.get("value")));
            } else {
                assertEquals(
                        (Object) at(secret, "metadata", "name"),
                        (Object) at(e, "valueFrom", "secretKeyRef", "name"),
                        name);
                String key = at(e, "valueFrom", "secretKeyRef", "key");
                assertTrue(secretData.containsKey(key), name + " refers to missing secret key " + key);
                env.put(name, secretData.get(key));
            }
        }
        for (String required :
                List.of("PGMUX_AUTH_USERS_APP_PASSWORD", "PGMUX_DATABASES_APPDB_HOST", "PGMUX_DATABASES_APPDB_PORT")) {
            assertTrue(env.containsKey(required), required);
        }
        PgmuxConfig config = assertLoads("k8s pgmux env + ConfigMap", env, Optional.of(conf));
        assertEquals(9930, config.metrics().port());
        assertEquals("0.0.0.0", config.metrics().host(), "kubelet probes reach the pod IP");

        // SIGTERM drains: preStop sleep, then up to shutdown-timeout, all within the grace period.
        List<String> preStop = at(pgmux, "lifecycle", "preStop", "exec", "command");
        assertEquals("sleep", preStop.get(0));
        long preStopSeconds = Long.parseLong(preStop.get(1));
        long grace = ((Number) podSpec.get("terminationGracePeriodSeconds")).longValue();
        Duration shutdownTimeout = config.shutdownTimeout();
        assertTrue(shutdownTimeout.compareTo(DEFAULT_SHUTDOWN_TIMEOUT) >= 0, shutdownTimeout.toString());
        assertTrue(
                grace > DEFAULT_SHUTDOWN_TIMEOUT.toSeconds() && grace > preStopSeconds + shutdownTimeout.toSeconds(),
                "terminationGracePeriodSeconds " + grace + " must exceed preStop " + preStopSeconds
                        + "s + shutdown-timeout " + shutdownTimeout);

        Map<String, Object> service = DockerFiles.yaml("k8s/service.yaml");
        List<Map<String, Object>> servicePorts = at(service, "spec", "ports");
        assertEquals(9930, servicePorts.get(0).get("port"));
        Map<String, Object> selector = at(service, "spec", "selector");
        Map<String, Object> podLabels = at(deployment, "spec", "template", "metadata", "labels");
        assertTrue(podLabels.entrySet().containsAll(selector.entrySet()), "the Service selects the pods");
    }

    @Test
    void anUnknownVariableIsReportedSoTheChecksAboveMeanSomething() {
        ConfigException e = assertThrowsConfig(
                Map.of("PGMUX_DATABASES_APPDB_HOST", "db", "PGMUX_POOL_SIZZE", "5"), Optional.empty());
        assertTrue(e.getMessage().contains("PGMUX_POOL_SIZZE"), e.getMessage());
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static PgmuxConfig assertLoads(String what, Map<String, String> env, Optional<Path> file) {
        assertFalse(env.isEmpty(), what + ": no environment");
        try {
            return ConfigLoader.load(file, env, new Properties());
        } catch (ConfigException e) {
            return fail(what + " is not a valid pgmux configuration:\n" + e.getMessage() + "\nenv: " + env);
        }
    }

    private static ConfigException assertThrowsConfig(Map<String, String> env, Optional<Path> file) {
        try {
            ConfigLoader.load(file, env, new Properties());
        } catch (ConfigException e) {
            return e;
        }
        return fail("no problem reported for " + env);
    }

    /** The {@code NAME=value} pairs of the Dockerfile's ENV instructions (multi-line, backslash-continued). */
    private static Map<String, String> envOf(String dockerfile) {
        Map<String, String> env = new LinkedHashMap<>();
        String joined = dockerfile.replace("\\\n", " ");
        for (String line : joined.split("\n")) {
            if (line.startsWith("ENV ")) {
                Matcher m = Pattern.compile("(\\w+)=(\"[^\"]*\"|\\S*)").matcher(line.substring(4));
                while (m.find()) {
                    env.put(m.group(1), m.group(2).replace("\"", ""));
                }
            }
        }
        // the entrypoint's own variable, which it unsets before starting pgmux
        env.remove("PGMUX_JAR");
        return env;
    }

    /** Compose's {@code ${VAR:-default}} with the default, as with an empty environment. */
    private static String interpolate(String value) {
        Matcher m = Pattern.compile("\\$\\{\\w+:-([^}]*)}").matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1)));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** A compose duration such as {@code 45s} or {@code 1m30s}. */
    private static Duration durationOf(String value) {
        Matcher m = Pattern.compile("(\\d+)(h|m|s)").matcher(value);
        Duration d = Duration.ZERO;
        List<String> parts = new ArrayList<>();
        while (m.find()) {
            parts.add(m.group());
            long n = Long.parseLong(m.group(1));
            d = d.plus(
                    switch (m.group(2)) {
                        case "h" -> Duration.ofHours(n);
                        case "m" -> Duration.ofMinutes(n);
                        default -> Duration.ofSeconds(n);
                    });
        }
        assertFalse(parts.isEmpty(), "not a duration: " + value);
        return d;
    }
}
