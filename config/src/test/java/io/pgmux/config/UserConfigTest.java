package io.pgmux.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class UserConfigTest {
    private static final String SCRAM = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
            + "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:U9Tb5LYfSbDzKyx3UqGsiJ2lSyqoYeZBKuwcrXm8IZw=";

    @Test
    void passwordKindIsToldApartAsPostgresDoes() {
        assertEquals(PasswordKind.PLAIN, new UserConfig("app", "secret").kind());
        assertEquals(PasswordKind.MD5, new UserConfig("app", "md5" + "0123456789abcdef".repeat(2)).kind());
        assertEquals(PasswordKind.SCRAM_SHA_256, new UserConfig("app", SCRAM).kind());
        // Not MD5 hashes: upper-case hex, and the wrong length, are plain text to PostgreSQL too.
        assertEquals(PasswordKind.PLAIN, new UserConfig("app", "md5" + "0123456789ABCDEF".repeat(2)).kind());
        assertEquals(PasswordKind.PLAIN, new UserConfig("app", "md5abc").kind());
    }

    @Test
    void malformedScramVerifierIsAProblem() {
        InvalidSettingsException e =
                assertThrows(InvalidSettingsException.class, () -> new UserConfig("app", "SCRAM-SHA-256$4096:salt"));
        assertEquals(
                List.of("auth.users.app.password looks like a SCRAM-SHA-256 verifier but is not one: expected"
                        + " SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"),
                e.problems());
    }

    @Test
    void emptyPasswordIsAProblem() {
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class, () -> new UserConfig("app", ""));
        assertEquals(List.of("auth.users.app.password must be set"), e.problems());
    }

    @Test
    void toStringHidesThePassword() {
        assertFalse(new UserConfig("app", "secret").toString().contains("secret"));
    }
}
