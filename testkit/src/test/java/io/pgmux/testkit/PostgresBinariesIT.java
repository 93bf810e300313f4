package io.pgmux.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import org.junit.jupiter.api.Test;

class PostgresBinariesIT {
    @Test
    void unpacksOnceKeepingLinksAndExecuteBits() throws IOException {
        Path install = PostgresBinaries.install(17);
        assertEquals(install, PostgresBinaries.install(17));
        assertEquals("postgres-17.5.0", install.getFileName().toString());
        Path postgres = install.resolve("bin/postgres");
        assertTrue(Files.isExecutable(postgres));
        assertTrue(Files.getPosixFilePermissions(postgres).contains(PosixFilePermission.OTHERS_EXECUTE));
        assertTrue(Files.isSymbolicLink(install.resolve("lib/libpq.so")));
        assertTrue(Files.isRegularFile(install.resolve("lib/libpq.so")), "link resolves");
        if (Os.isRoot()) {
            assertTrue(Os.traversableByOthers(postgres), "the unprivileged user reaches the binaries");
        }
    }
}
