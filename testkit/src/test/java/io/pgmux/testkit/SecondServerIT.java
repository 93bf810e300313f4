package io.pgmux.testkit;

import static io.pgmux.testkit.SharedPostgresIT.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SecondServerIT {
    @Test
    void olderMajorVersionRunsSideBySideAndCloseCleansUp() throws SQLException {
        assumeTrue(System.getenv(TestPostgres.URL_ENV) == null, "an external server has one version");
        TestPostgres shared = TestPostgres.shared();
        Path dataDir;
        Optional<Long> postmaster = Optional.empty();
        int port;
        try (TestPostgres pg14 = TestPostgres.start(14)) {
            port = pg14.port();
            assertEquals(14, pg14.majorVersion());
            assertNotEquals(shared.port(), port);
            try (Connection c = pg14.connect("postgres")) {
                assertTrue(query(c, "SHOW server_version_num").startsWith("14"));
            }
            try (Connection c = shared.connect("postgres")) {
                assertTrue(query(c, "SHOW server_version_num").startsWith(Integer.toString(shared.majorVersion())));
            }
            pg14.createUser("old", "pw");
            pg14.connect("postgres", "old", "pw").close();
            assumeTrue(pg14.source() == TestPostgres.Source.EMBEDDED, "directories exist for embedded servers only");
            dataDir = Path.of(pg14.dataDir());
            assertTrue(Files.isDirectory(dataDir));
            postmaster = ((EmbeddedPostgres) pg14.server()).postmasterPid();
            assertTrue(postmaster.isPresent());
        }
        assertFalse(Files.exists(dataDir), "data directory deleted");
        assertFalse(Files.exists(dataDir.getParent()), "server directory deleted");
        assertFalse(
                postmaster
                        .flatMap(ProcessHandle::of)
                        .map(ProcessHandle::isAlive)
                        .orElse(false),
                "postmaster gone");
        assertThrows(ConnectException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            } catch (IOException e) {
                throw e;
            }
        });
    }

    @Test
    void unknownMajorVersionIsRejected() {
        assumeTrue(System.getenv(TestPostgres.URL_ENV) == null);
        assertThrows(IllegalArgumentException.class, () -> TestPostgres.start(9));
    }
}
