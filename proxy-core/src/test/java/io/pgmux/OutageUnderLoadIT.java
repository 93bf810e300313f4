package io.pgmux;

import static io.pgmux.TestProxy.quote;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * PostgreSQL goes away under load and comes back: while it is gone (every connection reset, new
 * ones refused) clients get clear errors quickly, never hang; once it is back every client
 * succeeds again without anyone restarting pgmux.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OutageUnderLoadIT {
    private static final String DB = "it_outage";
    private static final String USER = "it_outage_user";
    private static final String PASSWORD = "it-outage-pw";
    private static final Set<String> OUTAGE_STATES = Set.of("08006", "08P01", "57P01", "08001", "08003");

    @Test
    void clientsGetClearErrorsDuringTheOutageAndRecoverAfterIt() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        try (FaultRelay relay = FaultRelay.start(pg.host(), pg.port());
                TestProxy proxy = TestProxy.start("auth.users { " + user(USER, PASSWORD) + " }\n"
                        + "pool { size = 4, query-wait-timeout = 5s, server-connect-timeout = 3s }\n"
                        + "databases { " + quote(DB) + " { host = \"127.0.0.1\", port = " + relay.port() + " } }")) {
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicBoolean outage = new AtomicBoolean(false);
            AtomicInteger okAfter = new AtomicInteger();
            AtomicLong slowest = new AtomicLong();
            Map<String, Integer> errors = new ConcurrentHashMap<>();
            List<String> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            ExecutorService threads = Executors.newFixedThreadPool(8);
            List<Future<?>> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    clients.add(threads.submit(() -> {
                        Connection c = null;
                        while (running.get()) {
                            long start = System.nanoTime();
                            try {
                                if (c == null) {
                                    c = proxy.connect(DB, USER, PASSWORD, "socketTimeout=20");
                                }
                                try (Statement s = c.createStatement();
                                        ResultSet rs = s.executeQuery("SELECT 1")) {
                                    rs.next();
                                }
                                if (!outage.get()) {
                                    okAfter.incrementAndGet();
                                }
                            } catch (SQLException e) {
                                String state = e.getSQLState() == null ? "null" : e.getSQLState();
                                errors.merge(state, 1, Integer::sum);
                                if (!OUTAGE_STATES.contains(state)) {
                                    unexpected.add(state + " " + e.getMessage());
                                }
                                if (c != null) {
                                    try {
                                        if (c.isClosed() || !c.isValid(1)) {
                                            c.close();
                                            c = null;
                                        }
                                    } catch (SQLException closing) {
                                        c = null;
                                    }
                                }
                                Await.pause(20);
                            } finally {
                                slowest.accumulateAndGet((System.nanoTime() - start) / 1_000_000, Math::max);
                            }
                        }
                        if (c != null) {
                            c.close();
                        }
                        return null;
                    }));
                }
                Await.until("traffic before the outage", Duration.ofSeconds(20), () -> okAfter.get() > 50);
                outage.set(true);
                relay.dropNew();
                relay.resetAll();
                Await.pause(3_000);
                long slowestDuringOutage = slowest.get();
                relay.pass();
                outage.set(false);
                int before = okAfter.get();
                Await.until(
                        "every client to succeed again", Duration.ofSeconds(30), () -> okAfter.get() > before + 200);
                running.set(false);
                for (Future<?> f : clients) {
                    f.get(30, TimeUnit.SECONDS);
                }
                assertTrue(unexpected.isEmpty(), "only connection errors during the outage: " + unexpected);
                assertTrue(!errors.isEmpty(), "the outage was noticed: " + errors);
                assertTrue(
                        slowestDuringOutage < 8_000,
                        "no request hung during the outage: " + slowestDuringOutage + " ms");
                System.out.printf(
                        "outage: errors by SQLSTATE %s, slowest request %d ms%n", errors, slowestDuringOutage);
            } finally {
                running.set(false);
                threads.shutdownNow();
            }
        }
    }
}
