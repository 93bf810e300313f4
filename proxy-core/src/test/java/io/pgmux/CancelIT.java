package io.pgmux;

import static io.pgmux.Sql.queryInt;
import static io.pgmux.TestProxy.database;
import static io.pgmux.TestProxy.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A CancelRequest with the key pgmux gave a client cancels that client's query, and nothing else. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CancelIT {
    private static final String USER = "it_cancel";
    private static final String DB = "it_cancel";
    private static final String PASSWORD = "cancel-pw";

    @RegisterExtension
    static final PgmuxExtension pgmux = new PgmuxExtension(pg -> {
        pg.createUser(USER, PASSWORD);
        pg.createDatabase(DB, USER);
        return "auth.users {\n" + user(USER, PASSWORD) + "}\n" + "databases {\n" + database(DB, pg, "pool { size = 4 }")
                + "}";
    });

    @Test
    void cancelStopsTheRunningQueryWith57014AndTheConnectionCarriesOn() throws Exception {
        try (Connection c = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = c.createStatement()) {
            long start = System.nanoTime();
            CompletableFuture<SQLException> sleeping = sleepAsync(st, "10");
            awaitRunning("pg_sleep(10)");
            st.cancel();
            SQLException e = sleeping.get(8, TimeUnit.SECONDS);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(e != null, "pg_sleep(10) was cancelled");
            assertEquals("57014", e.getSQLState(), e.toString());
            assertTrue(millis < 8_000, "cancelled after " + millis + " ms");

            assertEquals(1, queryInt(st, "SELECT 1"), "the connection is usable after the cancel");
            c.setAutoCommit(false);
            assertEquals(2, queryInt(st, "SELECT 2"));
            c.commit();
        }
    }

    @Test
    void cancelReachesOnlyTheClientWhoseKeyItCarries() throws Exception {
        try (Connection cancelled = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                Connection bystander = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                Statement cancelledSt = cancelled.createStatement();
                Statement bystanderSt = bystander.createStatement()) {
            CompletableFuture<SQLException> bystanderSleep = sleepAsync(bystanderSt, "2");
            CompletableFuture<SQLException> cancelledSleep = sleepAsync(cancelledSt, "10");
            awaitRunning("pg_sleep(2)");
            awaitRunning("pg_sleep(10)");
            cancelledSt.cancel();
            SQLException e = cancelledSleep.get(8, TimeUnit.SECONDS);
            assertTrue(e != null && "57014".equals(e.getSQLState()), "the cancelled client got 57014: " + e);
            assertEquals(null, bystanderSleep.get(8, TimeUnit.SECONDS), "the other client's query ran to its end");
        }
    }

    @Test
    void cancelForAnIdleClientDoesNothing() throws Exception {
        try (Connection c = pgmux.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                Statement st = c.createStatement()) {
            assertEquals(1, queryInt(st, "SELECT 1"));
            st.cancel(); // between transactions: no server to cancel on
            assertEquals(null, sleepAsync(st, "0.5").get(8, TimeUnit.SECONDS), "the next query is not cancelled");
        }
    }

    /**
     * A cancel that reaches PostgreSQL only after the query it named has finished must not hit the next client's query
     * on the same server: pgmux keeps the server out of the pool until PostgreSQL has answered the cancel.
     */
    @Test
    void aCancelArrivingLateDoesNotHitTheNextClientOnTheSameServer() throws Exception {
        try (FaultRelay relay = FaultRelay.start(
                        pgmux.postgres().host(), pgmux.postgres().port());
                TestProxy proxy = TestProxy.start("auth.users {\n" + user(USER, PASSWORD) + "}\n"
                        + "tls.server.mode = disable\n"
                        + "databases {\n" + relay.database(DB, "pool { size = 1 }") + "}");
                Connection first = proxy.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                Connection next = proxy.connect(DB, USER, PASSWORD, "prepareThreshold=0");
                Statement firstSt = first.createStatement();
                Statement nextSt = next.createStatement()) {
            CompletableFuture<SQLException> firstSleep = sleepAsync(firstSt, "0.5");
            awaitRunning("pg_sleep(0.5)");
            relay.delayNew(Duration.ofMillis(1500)); // the cancel connection, and only it, is slow
            firstSt.cancel();

            assertNull(firstSleep.get(8, TimeUnit.SECONDS), "the cancel came too late for the first query");
            // The pool's one server: without the hold it would run this while the late cancel lands.
            assertNull(sleepAsync(nextSt, "2").get(15, TimeUnit.SECONDS), "the next client's query ran to its end");
            assertEquals(
                    List.of(FaultRelay.CANCEL_REQUEST_CODE),
                    relay.openingCodes().subList(1, 2));
        }
    }

    private static CompletableFuture<SQLException> sleepAsync(Statement st, String seconds) {
        return Sleeps.sleepAsync(st, seconds);
    }

    private static void awaitRunning(String query) {
        Sleeps.awaitRunning(pgmux.postgres(), DB, USER, query);
    }
}
