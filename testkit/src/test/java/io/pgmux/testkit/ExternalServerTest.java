package io.pgmux.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ExternalServerTest {
    @Test
    void parsesAFullUrl() {
        ExternalServer s = ExternalServer.parse("postgresql://admin:p%40ss+w:rd@db.example:6543/main");
        assertEquals("db.example", s.host());
        assertEquals(6543, s.port());
        assertEquals("admin", s.superUser());
        assertEquals("p@ss+w:rd", s.superPassword());
        assertEquals("main", s.adminDatabase());
        assertEquals(TestPostgres.Source.EXTERNAL, s.source());
    }

    @Test
    void appliesDefaults() {
        ExternalServer s = ExternalServer.parse("jdbc:postgres://u@[::1]");
        assertEquals("::1", s.host());
        assertEquals(5432, s.port());
        assertEquals("u", s.superUser());
        assertEquals("", s.superPassword());
        assertEquals("postgres", s.adminDatabase());
    }

    @Test
    void rejectsOtherSchemes() {
        assertThrows(IllegalArgumentException.class, () -> ExternalServer.parse("mysql://u@h/db"));
    }
}
