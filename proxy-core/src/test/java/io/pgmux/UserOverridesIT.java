package io.pgmux;

import static io.pgmux.Sql.backendPid;
import static io.pgmux.Sql.queryString;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.quote;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.config.PoolMode;
import io.pgmux.pool.Pool;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Per-user pool settings ({@code auth.users.<user>.pool}): they go over the database's, for every pool of that user.
 * Each user here has a PostgreSQL login of its own, so that PostgreSQL's connection counts are only that user's.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class UserOverridesIT {
    private static final String DB = "it_uo";
    /** The same PostgreSQL database, with the server login forced to {@link #OWNER}. */
    private static final String FORCED_DB = "it_uo_forced";

    private static final String PASSWORD = "it-uo-pw";
    /** {@code pool { size = 1 }}. */
    private static final String SMALL = "it_uo_small";
    /** No overrides: the database's {@code size = 3}. */
    private static final String DEFAULT = "it_uo_default";
    /** {@code pool { mode = session }}. */
    private static final String SESSION = "it_uo_session";
    /** The server login of {@link #FORCED_DB}; not a pgmux user. */
    private static final String OWNER = "it_uo_owner";

    private static final int DATABASE_SIZE = 3;
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        for (String user : List.of(SMALL, DEFAULT, SESSION, OWNER)) {
            pg.createUser(user, PASSWORD);
        }
        pg.createDatabase(DB, DEFAULT);
        return "pool.query-wait-timeout = 30s\n"
                + "auth.users {\n"
                + user(SMALL, "pool { size = 1 }")
                + user(DEFAULT, "")
                + user(SESSION, "pool { mode = session }")
                + "}\n"
                + "databases {\n"
                + database(DB, pg, "pool { size = " + DATABASE_SIZE + " }")
                + database(
                        FORCED_DB,
                        pg,
                        "dbname = " + quote(DB) + ", user = " + quote(OWNER) + ", password = " + quote(PASSWORD)
                                + ", pool { size = " + DATABASE_SIZE + " }")
                + "}";
    });

    /** An {@code auth.users} entry with more keys. */
    private static String user(String name, String more) {
        return quote(name) + " { password = " + quote(PASSWORD) + "\n" + more + " }\n";
    }

    @Test
    void aUserWithPoolSizeOneGetsOneServerWhileAnotherGetsTheDatabasesSize() throws Exception {
        // Pools learn the server's parameters from their first client's login; do that before the race.
        for (String user : List.of(SMALL, DEFAULT)) {
            try (Connection c = pgmux.proxy().connect(DB, user, PASSWORD)) {
                backendPid(c);
            }
        }
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger maxSmallServers = new AtomicInteger();
        Thread sampler = new Thread(
                () -> {
                    while (!done.get()) {
                        maxSmallServers.accumulateAndGet(pgmux.postgres().countConnections(SMALL), Math::max);
                        Await.pause(20);
                    }
                },
                "small-server-sampler");
        sampler.setDaemon(true);
        sampler.start();

        int clients = 3;
        ExecutorService threads = Executors.newFixedThreadPool(2 * clients);
        CountDownLatch release = new CountDownLatch(1);
        try {
            List<Future<Integer>> small = new ArrayList<>();
            List<Future<Integer>> others = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                small.add(threads.submit(holdTransaction(SMALL, release)));
                others.add(threads.submit(holdTransaction(DEFAULT, release)));
            }

            // Every client of the default user holds a server of its own; of the size-1 user's, one does and two wait.
            Await.until(
                    DEFAULT + " leasing 3 servers, " + SMALL + " leasing 1 with 2 clients waiting",
                    TIMEOUT,
                    () -> List.of(counts(DEFAULT), counts(SMALL)),
                    seen -> seen.get(0).leased() == clients
                            && seen.get(1).leased() == 1
                            && seen.get(1).waiting() == clients - 1);
            assertEquals(clients, pgmux.postgres().countConnections(DEFAULT), "servers PostgreSQL sees for " + DEFAULT);
            assertEquals(1, pgmux.postgres().countConnections(SMALL), "servers PostgreSQL sees for " + SMALL);
            assertEquals(1, counts(SMALL).maxSize());
            assertEquals(DATABASE_SIZE, counts(DEFAULT).maxSize());

            release.countDown();
            Set<Integer> smallPids = pids(small);
            Set<Integer> otherPids = pids(others);
            assertEquals(1, smallPids.size(), "the size-1 user's transactions all ran on one server: " + smallPids);
            assertEquals(clients, otherPids.size(), "the other user's ran on one server each: " + otherPids);
        } finally {
            release.countDown();
            threads.shutdownNow();
            done.set(true);
            sampler.join(5_000);
        }
        assertTrue(maxSmallServers.get() <= 1, "at most 1 server for " + SMALL + ", saw " + maxSmallServers.get());
        assertTrue(counts(SMALL).open() <= 1, counts(SMALL).toString());
    }

    @Test
    void aSessionModeUserKeepsItsServerWhileATransactionModeUserShares() throws Exception {
        try (Connection s1 = pgmux.proxy().connect(DB, SESSION, PASSWORD);
                Connection s2 = pgmux.proxy().connect(DB, SESSION, PASSWORD);
                Connection t1 = pgmux.proxy().connect(DB, SMALL, PASSWORD);
                Connection t2 = pgmux.proxy().connect(DB, SMALL, PASSWORD)) {
            List<Integer> session1 = new ArrayList<>();
            List<Integer> session2 = new ArrayList<>();
            Set<Integer> shared = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                session1.add(transactionPid(s1));
                session2.add(transactionPid(s2));
                shared.add(transactionPid(t1));
                shared.add(transactionPid(t2));
            }

            assertEquals(1, Set.copyOf(session1).size(), "one server for the first session client: " + session1);
            assertEquals(1, Set.copyOf(session2).size(), "one server for the second session client: " + session2);
            assertNotEquals(session1.get(0), session2.get(0), "each session client has a server of its own");
            assertEquals(1, shared.size(), "both transaction-mode clients on the one server: " + shared);

            Pool session = pgmux.proxy().pool(DB, SESSION);
            assertEquals(PoolMode.SESSION, session.settings().mode());
            assertEquals(DATABASE_SIZE, session.settings().size());
            assertEquals(2, session.counts().leased(), "session clients keep their servers between transactions");
            assertEquals(
                    PoolMode.TRANSACTION,
                    pgmux.proxy().pool(DB, SMALL).settings().mode());
            // pgmux releases the server right after relaying ReadyForQuery, so the client may look first.
            Await.until(
                    "the transaction-mode pool to have its server back",
                    java.time.Duration.ofSeconds(5),
                    () -> pgmux.proxy().pool(DB, SMALL).counts().leased() == 0);
        }
    }

    @Test
    void onADatabaseThatForcesTheServerUserTheClientsOwnOverridesApply() throws Exception {
        try (Connection small = pgmux.proxy().connect(FORCED_DB, SMALL, PASSWORD);
                Connection plain = pgmux.proxy().connect(FORCED_DB, DEFAULT, PASSWORD)) {
            assertEquals(OWNER, queryString(small, "SELECT current_user"));
            assertEquals(OWNER, queryString(plain, "SELECT current_user"));
        }
        // The client with overrides has a pool of its own, the others share the forced user's.
        assertEquals(1, pgmux.proxy().pool(FORCED_DB, SMALL).settings().size());
        assertEquals(
                DATABASE_SIZE, pgmux.proxy().pool(FORCED_DB, OWNER).settings().size());
    }

    /** BEGIN, the backend PID, then waits for {@code release} before COMMIT: a transaction holding its server. */
    private static Callable<Integer> holdTransaction(String user, CountDownLatch release) {
        return () -> {
            try (Connection c = pgmux.proxy().connect(DB, user, PASSWORD)) {
                c.setAutoCommit(false);
                int pid = backendPid(c);
                if (!release.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                    throw new TimeoutException("never released");
                }
                c.commit();
                return pid;
            }
        };
    }

    private static int transactionPid(Connection c) throws SQLException {
        c.setAutoCommit(false);
        int pid = backendPid(c);
        c.commit();
        return pid;
    }

    private static Set<Integer> pids(List<Future<Integer>> results) throws Exception {
        Set<Integer> pids = new HashSet<>();
        for (Future<Integer> result : results) {
            pids.add(result.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        }
        return pids;
    }

    private static Pool.Counts counts(String user) {
        return pgmux.proxy().pool(DB, user).counts();
    }
}
