package io.pgmux.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/** A PostgreSQL server in a Testcontainers {@code postgres:<major>} container. Only loaded when Testcontainers is present. */
final class ContainerServer implements PostgresServer {
    private static final Logger log = LoggerFactory.getLogger(ContainerServer.class);
    private static final String SUPER_USER = "postgres";
    private static final String SUPER_PASSWORD = "postgres";

    private final PostgreSQLContainer<?> container;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;

    private ContainerServer(PostgreSQLContainer<?> container) {
        this.container = container;
        this.shutdownHook = new Thread(this::stop, "pgmux-testkit-stop-container");
    }

    static boolean dockerAvailable() {
        return DockerClientFactory.instance().isDockerAvailable();
    }

    static ContainerServer start(int majorVersion) {
        PostgreSQLContainer<?> container = new PostgreSQLContainer<>(DockerImageName.parse("postgres:" + majorVersion))
                .withUsername(SUPER_USER)
                .withPassword(SUPER_PASSWORD)
                .withDatabaseName("postgres")
                .withCommand(
                        "postgres",
                        "-c",
                        "max_connections=300",
                        "-c",
                        "password_encryption=scram-sha-256",
                        "-c",
                        "fsync=off",
                        "-c",
                        "synchronous_commit=off",
                        "-c",
                        "full_page_writes=off",
                        "-c",
                        "shared_buffers=128MB");
        container.start();
        ContainerServer server = new ContainerServer(container);
        Runtime.getRuntime().addShutdownHook(server.shutdownHook);
        log.info("started PostgreSQL container postgres:{} on {}:{}", majorVersion, server.host(), server.port());
        return server;
    }

    private void stop() {
        if (closed.compareAndSet(false, true)) {
            container.stop();
        }
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // shutting down: the hook runs anyway
        }
        try {
            stop();
        } catch (RuntimeException e) {
            log.warn("could not stop the PostgreSQL container: {}", e.toString());
        }
    }

    @Override
    public TestPostgres.Source source() {
        return TestPostgres.Source.CONTAINER;
    }

    @Override
    public String host() {
        return container.getHost();
    }

    @Override
    public int port() {
        return container.getMappedPort(PostgreSQLContainer.POSTGRESQL_PORT);
    }

    @Override
    public String superUser() {
        return SUPER_USER;
    }

    @Override
    public String superPassword() {
        return SUPER_PASSWORD;
    }

    @Override
    public String adminDatabase() {
        return "postgres";
    }

    @Override
    public String binDir() {
        return null;
    }

    @Override
    public String dataDir() {
        return null;
    }

    @Override
    public String readServerFile(String path) {
        return container.copyFileFromContainer(path, in -> new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }

    @Override
    public void writeServerFile(String path, String content) {
        // truncating in place (rather than copying a file in) keeps the owner, the postgres user
        shell(path, content, "printf '%s' \"$1\" > \"$2\"");
    }

    @Override
    public void writePrivateServerFile(String path, String content) {
        shell(path, content, "umask 077 && printf '%s' \"$1\" > \"$2\" && chown postgres:postgres \"$2\"");
    }

    /** Runs {@code script} in the container with {@code content} as $1 and {@code path} as $2. */
    private void shell(String path, String content, String script) {
        try {
            var result = container.execInContainer("sh", "-c", script, "sh", content, path);
            if (result.getExitCode() != 0) {
                throw new IllegalStateException("could not write " + path + " in the container: " + result.getStderr());
            }
        } catch (IOException e) {
            throw new IllegalStateException("could not write " + path + " in the container", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing " + path + " in the container", e);
        }
    }
}
