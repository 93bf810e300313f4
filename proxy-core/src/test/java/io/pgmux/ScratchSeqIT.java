package io.pgmux;

import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;

import io.pgmux.WireClient.Bytes;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ScratchSeqIT {
    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createPasswordUser("it_scr", "pw");
        pg.createDatabase("it_scr", "it_scr");
        return "auth.type = plain\nauth.users {\n" + user("it_scr", "pw") + "}\ndatabases {\n"
                + database("it_scr", pg, "pool { size = 2 }") + "}";
    });

    @Test
    void replay() throws Exception {
        try (Connection c = pgmux.postgres().connect("it_scr", "it_scr", "pw");
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS seq_sink (n int)");
        }
        for (int port : new int[] {pgmux.postgres().port(), pgmux.port()}) {
            System.out.println("=== port " + port + (port == pgmux.port() ? " (pgmux)" : " (postgres)"));
            try (WireClient w = WireClient.login(port, "it_scr", "it_scr", "pw")) {
                w.sendTyped(
                        'P',
                        new Bytes()
                                .cstring("")
                                .cstring("COPY seq_sink FROM STDIN")
                                .int16(0)
                                .build());
                w.query("COPY seq_sink FROM STDIN");
                w.sendTyped('d', "3\n".getBytes(StandardCharsets.US_ASCII));
                w.query("SET statement_timeout = '5s'");
                w.sendTyped(
                        'B',
                        new Bytes()
                                .cstring("p1")
                                .cstring("")
                                .int16(0)
                                .int16(0)
                                .int16(0)
                                .build());
                w.sendTyped(
                        'P',
                        new Bytes().cstring("s2").cstring("SELECT 1/0").int16(0).build());
                w.sendTyped('c', new byte[0]);
                w.sendTyped(
                        'B',
                        new Bytes()
                                .cstring("p1")
                                .cstring("s1")
                                .int16(0)
                                .int16(0)
                                .int16(0)
                                .build());
                w.sendTyped('H', new byte[0]);
                w.sendTyped('S', new byte[0]);
                w.query("SELECT 'done'");
                System.out.println(w.readUntilClosed(java.time.Duration.ofSeconds(3)));
            } catch (AssertionError e) {
                System.out.println("TIMEOUT: " + e.getMessage());
            }
        }
    }
}
