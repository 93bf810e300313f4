package io.pgmux.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthFileTest {
    @TempDir
    Path dir;

    private PgmuxConfig load(String fileText, String usersBlock) throws Exception {
        Path file = dir.resolve("users.conf");
        Files.writeString(file, fileText);
        return ConfigLoader.fromString("pgmux.auth { file = \"" + file + "\", users { " + usersBlock + " } }");
    }

    @Test
    void usersOfTheFileJoinAuthUsersAndWinOnAClash() throws Exception {
        PgmuxConfig c = load(
                """
                users {
                  bob { password = "from-file" }
                  carol { password = "c", pool { size = 3 } }
                }
                """,
                "alice { password = \"a\" }, bob { password = \"from-config\", pool { size = 7 } }");

        assertEquals(Set.of("alice", "bob", "carol"), c.auth().users().keySet());
        assertEquals("from-file", c.auth().users().get("bob").password());
        // The file's entry replaces the whole entry, pool overrides included.
        assertTrue(c.auth().users().get("bob").pool().isEmpty());
        assertEquals(
                3,
                c.auth()
                        .users()
                        .get("carol")
                        .pool()
                        .orElseThrow()
                        .over(c.pool())
                        .size());
    }

    @Test
    void anUnreadableFileIsAnInvalidConfig() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.fromString("pgmux.auth.file = \"" + dir.resolve("missing.conf") + "\""));
        assertTrue(e.getMessage().contains("auth.file: cannot read"), e.getMessage());
        assertTrue(e.getMessage().contains("missing.conf"), e.getMessage());
    }

    @Test
    void problemsInTheFileNameTheFileAndLine() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> load(
                        """
                        users {
                          bob { }
                        }
                        listen.port = 1
                        """,
                        ""));
        assertTrue(e.getMessage().contains("users.conf:2: auth.users.bob.password must be set"), e.getMessage());
        assertTrue(e.getMessage().contains("users.conf:4: listen: unknown setting in auth.file"), e.getMessage());
    }

    @Test
    void aSyntaxErrorInTheFileIsReported() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("users { bob { password = ", ""));
        assertTrue(e.getMessage().contains("auth.file: "), e.getMessage());
    }
}
