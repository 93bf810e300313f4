package io.pgmux.docker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/** Finds the repository's docker/ folder and reads its YAML and JSON files, for the tests of this package. */
final class DockerFiles {
    private DockerFiles() {}

    /** The repository root: the first parent of the working directory that has docker/entrypoint.sh. */
    static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("docker/entrypoint.sh"))) {
                return p;
            }
        }
        throw new AssertionError("no docker/entrypoint.sh above " + dir);
    }

    static Path docker(String relative) {
        return repoRoot().resolve("docker").resolve(relative);
    }

    /** Every YAML document of the file (JSON is read the same way). */
    static List<Object> yamlDocuments(String relative) {
        try {
            String text = Files.readString(docker(relative));
            List<Object> documents = new ArrayList<>();
            for (Object document : new Yaml(new LoaderOptions()).loadAll(text)) {
                if (document != null) {
                    documents.add(document);
                }
            }
            return documents;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> yaml(String relative) {
        List<Object> documents = yamlDocuments(relative);
        if (documents.size() != 1) {
            throw new AssertionError(relative + ": expected one YAML document, got " + documents.size());
        }
        return (Map<String, Object>) documents.get(0);
    }

    /** Calls {@code visitor} with (key, value) of every map entry anywhere in {@code node}. */
    static void walk(Object node, BiConsumer<String, Object> visitor) {
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                visitor.accept(String.valueOf(e.getKey()), e.getValue());
                walk(e.getValue(), visitor);
            }
        } else if (node instanceof List<?> list) {
            for (Object item : list) {
                walk(item, visitor);
            }
        }
    }

    /** The map at {@code path} (map keys, or list indexes as numbers) under {@code node}. */
    @SuppressWarnings("unchecked")
    static <T> T at(Object node, Object... path) {
        Object current = node;
        for (Object step : path) {
            if (step instanceof Integer index && current instanceof List<?> list) {
                current = list.get(index);
            } else if (current instanceof Map<?, ?> map && map.containsKey(step)) {
                current = map.get(step);
            } else {
                throw new AssertionError("no " + step + " in " + current);
            }
        }
        return (T) current;
    }

    /** A free TCP port of 127.0.0.1 (bound, then released). */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
