package io.pgmux.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether Testcontainers can be used: its classes are on the class path and a Docker engine answers. Decided at
 * most once per JVM; without any Docker socket or configuration it answers "no" without asking Testcontainers.
 */
final class Docker {
    private static final Logger log = LoggerFactory.getLogger(Docker.class);
    private static final String CONTAINER_CLASS = "org.testcontainers.containers.PostgreSQLContainer";
    private static final long CHECK_TIMEOUT_SECONDS = 60;

    private static Boolean available;

    private Docker() {}

    static synchronized boolean available() {
        if (available == null) {
            available = check();
        }
        return available;
    }

    private static boolean check() {
        try {
            Class.forName(CONTAINER_CLASS, false, Docker.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            log.debug("Testcontainers is not on the class path");
            return false;
        }
        if (!configured()) {
            log.debug("no Docker socket, DOCKER_HOST or Testcontainers configuration: not using Testcontainers");
            return false;
        }
        CompletableFuture<Boolean> check = new CompletableFuture<>();
        Thread thread = new Thread(
                () -> {
                    try {
                        check.complete(ContainerServer.dockerAvailable());
                    } catch (Throwable t) {
                        check.completeExceptionally(t);
                    }
                },
                "pgmux-testkit-docker-check");
        thread.setDaemon(true);
        thread.start();
        try {
            boolean answer = check.get(CHECK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            log.info("Docker is {}available to Testcontainers", answer ? "" : "not ");
            return answer;
        } catch (TimeoutException e) {
            log.warn("Docker did not answer within {}s; not using Testcontainers", CHECK_TIMEOUT_SECONDS);
        } catch (ExecutionException e) {
            log.warn(
                    "Testcontainers failed to look for Docker: {}", e.getCause().toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** Whether anything suggests a Docker engine: DOCKER_HOST, Testcontainers settings, or a known socket. */
    private static boolean configured() {
        if (System.getenv("DOCKER_HOST") != null || System.getenv("TESTCONTAINERS_DOCKER_CLIENT_STRATEGY") != null) {
            return true;
        }
        String home = System.getProperty("user.home");
        Path props = Path.of(home, ".testcontainers.properties");
        if (Files.isRegularFile(props)) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(props)) {
                p.load(in);
            } catch (IOException e) {
                return true;
            }
            if (p.getProperty("docker.host") != null || p.getProperty("docker.client.strategy") != null) {
                return true;
            }
        }
        List<Path> sockets = new ArrayList<>(List.of(
                Path.of("/var/run/docker.sock"),
                Path.of("/run/docker.sock"),
                Path.of(home, ".docker/run/docker.sock"),
                Path.of(home, ".docker/desktop/docker.sock"),
                Path.of(home, ".colima/default/docker.sock"),
                Path.of(home, ".rd/docker.sock")));
        String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
        if (runtimeDir != null) {
            sockets.add(Path.of(runtimeDir, "docker.sock"));
            sockets.add(Path.of(runtimeDir, "podman/podman.sock"));
        }
        return sockets.stream().anyMatch(Files::exists);
    }
}
