package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static io.pgmux.WireClient.cstring;
import static io.pgmux.WireClient.startup;
import static io.pgmux.WireClient.typed;
import static io.pgmux.WireClient.untyped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.WireClient.Bytes;
import io.pgmux.WireClient.Ending;
import io.pgmux.pool.Pool;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;

/**
 * Bad input over raw sockets (DESIGN, "Bad input"): garbage, impossible lengths, truncated and oversized messages,
 * unknown protocol versions and message types, messages out of order, cancel requests with wrong keys. The
 * connection that sent it gets an ErrorResponse with the right SQLSTATE (where it sent something length-prefixed) and
 * is closed, within {@link #CLOSE_DEADLINE}; a pgjdbc client that connected before the attacks keeps working after
 * each; no server is left leased, stuck in a transaction, or running.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileInputIT {
    private static final String USER = "it_hostile";
    private static final String DB = "it_hostile";
    private static final String PASSWORD = "hostile-pw";
    /** Small enough to exceed by announcing a length, without sending the bytes. */
    private static final int MAX_MESSAGE_SIZE = 1_000_000;

    private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(5);
    private static final String PROTOCOL_VIOLATION = "08P01";
    private static final String FEATURE_NOT_SUPPORTED = "0A000";

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        // Cleartext logins, so that WireClient can log in after the bystander's pgjdbc did.
        return "auth.type = plain\n"
                + "max-message-size = " + MAX_MESSAGE_SIZE + "\n"
                + "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n" + database(DB, pg, "pool { size = 4 }") + "}";
    });

    /** Connected before any attack; must keep working after each. */
    private static Connection bystander;

    private static int bystanderPid;

    @BeforeAll
    static void connectBystander() throws SQLException {
        bystander = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
        bystanderPid = bystander.unwrap(PGConnection.class).getBackendPID();
        assertEquals(1, queryInt(bystander, "SELECT 1"));
    }

    @AfterAll
    static void closeBystander() throws SQLException {
        if (bystander != null) {
            bystander.close();
        }
    }

    @AfterEach
    void bystanderCarriesOnAndNoServerIsLeftBehind() throws SQLException {
        assertEquals(2, queryInt(bystander, "SELECT 2"), "the bystander's query after the attack");
        bystander.setAutoCommit(false);
        try {
            assertEquals(3, queryInt(bystander, "SELECT 3"), "the bystander's transaction after the attack");
            bystander.commit();
        } finally {
            bystander.setAutoCommit(true);
        }
        assertEquals(bystanderPid, bystander.unwrap(PGConnection.class).getBackendPID(), "the same bystander");
        pgmux.proxy().awaitAllReleased();
        for (Pool pool : pgmux.proxy().pools()) {
            assertEquals(0, pool.counts().leased(), () -> pool.key() + " " + pool.counts());
        }
        Await.until(
                "pgmux to count only the bystander as a client",
                Duration.ofSeconds(5),
                () -> pgmux.server().registry().clientCount(),
                n -> n == 1);
        Await.until(
                "no server of " + USER + " in a transaction or running a query",
                Duration.ofSeconds(10),
                HostileInputIT::busyServers,
                n -> n == 0);
    }

    // ---- before startup --------------------------------------------------------------------------------------------

    @Test
    void randomBytesAsTheFirstPacketAreRefusedWith08P01() throws IOException {
        Random random = new Random(20_241_123);
        for (int i = 0; i < 20; i++) {
            byte[] garbage = new byte[1 + random.nextInt(200)];
            random.nextBytes(garbage);
            int length = garbage.length >= 4 ? intAt(garbage, 0) : 0;
            boolean parseableLength = length >= 8 && length <= 10_000;
            try (WireClient attacker = WireClient.connect(pgmux.port())) {
                attacker.send(garbage);
                // The whole packet is sent: a client with nothing more to say half-closes.
                attacker.shutdownOutput();
                Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);
                String what = "garbage #" + i + " " + hex(garbage) + ": " + ending;
                if (garbage.length >= 4 && !parseableLength) {
                    assertEquals(PROTOCOL_VIOLATION, ending.sqlState(), what);
                } else {
                    assertNoErrorOtherThan(ending, Set.of(PROTOCOL_VIOLATION), what);
                }
            }
        }
    }

    @Test
    void aBarrageOfGarbageConnectionsLeavesMemoryFlat() throws IOException {
        Random random = new Random(7);
        long before = directMemoryAfterGc();
        for (int i = 0; i < 400; i++) {
            try (WireClient attacker = WireClient.connect(pgmux.port())) {
                byte[] garbage = new byte[1 + random.nextInt(4096)];
                random.nextBytes(garbage);
                if (i % 2 == 0) {
                    // a plausible startup length announcing more than is ever sent
                    garbage[0] = 0;
                    garbage[1] = 0;
                    garbage[2] = 0x20;
                }
                attacker.send(garbage);
                attacker.shutdownOutput();
                attacker.readUntilClosed(CLOSE_DEADLINE);
            }
        }
        long after = directMemoryAfterGc();
        assertTrue(after - before < (8L << 20), "pgmux's buffers grew by " + ((after - before) >> 10) + " KiB");
    }

    private static long directMemoryAfterGc() {
        System.gc();
        Await.pause(200);
        return io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 3, 7, 10_001, 1_000_000, Integer.MAX_VALUE})
    void startupPacketWithAnImpossibleLengthIsRefusedWith08P01(int length) throws IOException {
        try (WireClient attacker = WireClient.connect(pgmux.port())) {
            attacker.send(
                    new Bytes().int32(length).int32(3 << 16).cstring("user").build());

            Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

            assertEquals(PROTOCOL_VIOLATION, ending.sqlState(), ending::toString);
            assertTrue(
                    ending.errors().get(0).fields().get('M').contains("invalid length of startup packet"),
                    ending::toString);
        }
    }

    @Test
    void truncatedStartupPacketThenCloseLeavesNothingBehind() throws IOException {
        byte[] whole = startup(3 << 16, Map.of("user", USER, "database", DB));
        for (int cut : new int[] {1, 3, 4, 8, whole.length / 2, whole.length - 1}) {
            try (WireClient attacker = WireClient.connect(pgmux.port())) {
                attacker.send(Arrays.copyOf(whole, cut));
            }
        }
        // The bystander and the client count are checked after the test.
    }

    @Test
    void truncatedStartupPacketThenHalfCloseIsClosedWithoutReply() throws IOException {
        byte[] whole = startup(3 << 16, Map.of("user", USER, "database", DB));
        try (WireClient attacker = WireClient.connect(pgmux.port())) {
            attacker.send(Arrays.copyOf(whole, whole.length - 3));
            attacker.shutdownOutput();

            Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

            assertEquals(List.of(), ending.messages(), "nothing to answer to a packet that never came whole");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0x0002_0000, 0x0004_0000, 0x0001_0000, 0x7fff_0000})
    void unsupportedProtocolVersionIsRefusedThenClosed(int version) throws IOException {
        try (WireClient attacker = WireClient.connect(pgmux.port())) {
            attacker.send(startup(version, Map.of("user", USER, "database", DB)));

            Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

            assertTrue(Set.of(PROTOCOL_VIOLATION, FEATURE_NOT_SUPPORTED).contains(ending.sqlState()), ending::toString);
            String message = ending.errors().get(0).fields().get('M');
            assertTrue(message.contains((version >>> 16) + "." + (version & 0xffff)), "names the version: " + message);
        }
    }

    @ParameterizedTest
    @ValueSource(chars = {'Q', 'B', 'P', 'X', 'p'})
    void typedMessageBeforeStartupIsRefusedWith08P01(char type) throws IOException {
        byte[] body = type == 'B'
                ? new Bytes().cstring("").cstring("").int16(0).int16(0).int16(0).build()
                : cstring("SELECT 1");
        try (WireClient attacker = WireClient.connect(pgmux.port())) {
            attacker.send(typed(type, body));

            Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

            assertEquals(PROTOCOL_VIOLATION, ending.sqlState(), ending::toString);
        }
    }

    @Test
    void malformedCancelRequestIsRefusedWith08P01() throws IOException {
        try (WireClient attacker = WireClient.connect(pgmux.port())) {
            // A secret key of 3 bytes: 4 to 256 are allowed.
            attacker.send(untyped(new Bytes()
                    .int32(80877102)
                    .int32(bystanderPid)
                    .bytes(new byte[3])
                    .build()));

            Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

            assertEquals(PROTOCOL_VIOLATION, ending.sqlState(), ending::toString);
        }
    }

    @Test
    void cancelRequestWithAWrongKeyDoesNothing() throws Exception {
        try (Statement st = bystander.createStatement()) {
            CompletableFuture<SQLException> sleeping = CompletableFuture.supplyAsync(() -> {
                try {
                    st.execute("SELECT pg_sleep(1.5)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Await.until(
                    "PostgreSQL to run the bystander's pg_sleep",
                    Duration.ofSeconds(10),
                    () -> running("pg_sleep(1.5)"));
            byte[][] wrongKeys = {
                new Bytes().int32(bystanderPid).int32(0).build(),
                new Bytes().int32(bystanderPid).bytes(new byte[32]).build(),
                new Bytes().int32(bystanderPid + 1).int32(0x1234_5678).build(),
                new Bytes().int32(-1).int32(-1).build()
            };
            for (byte[] key : wrongKeys) {
                try (WireClient attacker = WireClient.connect(pgmux.port())) {
                    attacker.send(untyped(new Bytes().int32(80877102).bytes(key).build()));

                    Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

                    assertEquals(List.of(), ending.messages(), "a CancelRequest gets no reply, as in PostgreSQL");
                }
            }
            assertNull(sleeping.get(10, TimeUnit.SECONDS), "the bystander's query ran to its end, not cancelled");
        }
    }

    /** Slowloris: connections that say nothing, or stop half-way, are closed at client-login-timeout. */
    @Test
    void silentAndStalledLoginsAreClosedAtClientLoginTimeout() throws IOException {
        String settings = "pool.client-login-timeout = 1s\n"
                + "auth.type = plain\n"
                + "auth.users {\n" + user(USER, PASSWORD) + "}\n"
                + "databases {\n" + database(DB, pgmux.postgres(), "") + "}";
        byte[] login = startup(3 << 16, Map.of("user", USER, "database", DB));
        try (TestProxy proxy = TestProxy.start(settings);
                WireClient silent = WireClient.connect(proxy.port());
                WireClient halfSent = WireClient.connect(proxy.port());
                WireClient noPassword = WireClient.connect(proxy.port())) {
            halfSent.send(Arrays.copyOf(login, login.length / 2));
            noPassword.send(login);
            assertEquals('R', noPassword.read().type(), "password request");

            for (WireClient client : List.of(silent, halfSent, noPassword)) {
                Ending ending = client.readUntilClosed(Duration.ofSeconds(4));
                assertEquals(PROTOCOL_VIOLATION, ending.sqlState(), ending::toString);
                assertTrue(ending.errors().get(0).fields().get('M').contains("client_login_timeout"), ending::toString);
            }
        }
    }

    // ---- during authentication ---------------------------------------------------------------------------------

    @Test
    void queryDuringAuthenticationIsRefusedWith08P01() throws IOException {
        try (WireClient attacker = WireClient.connect(pgmux.port())) {
            attacker.send(startup(3 << 16, Map.of("user", USER, "database", DB)));
            WireClient.Message request = attacker.read();
            assertEquals('R', request.type(), request::toString);
            assertEquals(3, request.intAt(0), "cleartext password request");

            attacker.query("SELECT 1");
            Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

            assertEquals(PROTOCOL_VIOLATION, ending.sqlState(), ending::toString);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void malformedPasswordMessageIsRefusedWith08P01(int variant) throws IOException {
        byte[] message =
                switch (variant) {
                    case 0 -> typed('p', "secret-without-terminator".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    case 1 ->
                        typed(
                                'p',
                                new Bytes()
                                        .cstring(PASSWORD)
                                        .cstring("trailing")
                                        .build());
                    default -> new Bytes().int8('p').int32(2).build();
                };
        try (WireClient attacker = WireClient.connect(pgmux.port())) {
            attacker.send(startup(3 << 16, Map.of("user", USER, "database", DB)));
            assertEquals('R', attacker.read().type());

            attacker.send(message);
            Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

            assertEquals(PROTOCOL_VIOLATION, ending.sqlState(), ending::toString);
        }
    }

    // ---- after login -------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "inTransaction={0}")
    @ValueSource(booleans = {false, true})
    void messageWithLengthTwoAfterLoginIsRefusedWith08P01(boolean inTransaction) throws IOException {
        try (WireClient attacker = loggedIn(inTransaction)) {
            attacker.send(new Bytes().int8('Q').int32(2).cstring("SELECT 1").build());

            Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

            assertEquals(PROTOCOL_VIOLATION, ending.sqlState(), ending::toString);
        }
    }

    @ParameterizedTest(name = "inTransaction={0}")
    @ValueSource(booleans = {false, true})
    void messageOverMaxMessageSizeAfterLoginIsRefusedWith08P01(boolean inTransaction) throws IOException {
        try (WireClient attacker = loggedIn(inTransaction)) {
            // Only the header: pgmux must refuse from the announced length, without waiting for the bytes.
            attacker.send(new Bytes().int8('Q').int32(MAX_MESSAGE_SIZE + 100).build());

            Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

            assertEquals(PROTOCOL_VIOLATION, ending.sqlState(), ending::toString);
            assertTrue(ending.errors().get(0).fields().get('M').contains("max-message-size"), ending::toString);
        }
    }

    @ParameterizedTest
    @ValueSource(chars = {'z', 'p', 'R', '\0', 'Z'})
    void unknownMessageTypeAfterLoginIsRefusedWith08P01(char type) throws IOException {
        for (boolean inTransaction : new boolean[] {false, true}) {
            try (WireClient attacker = loggedIn(inTransaction)) {
                attacker.sendTyped(type, cstring("whatever"));

                Ending ending = attacker.readUntilClosed(CLOSE_DEADLINE);

                assertEquals(
                        PROTOCOL_VIOLATION, ending.sqlState(), () -> "inTransaction=" + inTransaction + " " + ending);
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** A raw client past login; with {@code inTransaction}, inside a transaction, so that it holds a server. */
    private static WireClient loggedIn(boolean inTransaction) throws IOException {
        WireClient client = WireClient.login(pgmux.port(), DB, USER, PASSWORD);
        if (inTransaction) {
            client.query("BEGIN; SELECT 1");
            List<WireClient.Message> reply = client.readUntilReady();
            WireClient.Message ready = reply.get(reply.size() - 1);
            assertEquals('T', (char) ready.body()[0], "in a transaction: " + reply);
        }
        return client;
    }

    /** Only the given SQLSTATEs, and never an internal error (XX000), among what pgmux sent. */
    private static void assertNoErrorOtherThan(Ending ending, Set<String> allowed, String what) {
        for (WireClient.Message error : ending.errors()) {
            assertTrue(allowed.contains(error.fields().get('C')), what);
        }
    }

    /** Servers of the test user in a transaction or running a query, as PostgreSQL sees them. */
    private static int busyServers() {
        return PgActivity.busyServers(pgmux.postgres(), DB, USER);
    }

    private static boolean running(String query) {
        return PgActivity.isRunning(pgmux.postgres(), DB, USER, query);
    }

    private static int intAt(byte[] b, int i) {
        return ((b[i] & 0xff) << 24) | ((b[i + 1] & 0xff) << 16) | ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
    }

    private static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b, 0, Math.min(b.length, 16)) + (b.length > 16 ? "…" : "");
    }
}
