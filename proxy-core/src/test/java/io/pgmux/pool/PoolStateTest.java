package io.pgmux.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.protocol.SqlState;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Unit tests of the pool's pure logic: String servers and String waiters, an explicit clock (T0 + seconds), and
 * connects completed by hand, as Vert.x's {@code ConnectionPoolTest} does with its fake connector.
 */
class PoolStateTest {
    private static final long T0 = TimeUnit.DAYS.toNanos(1);
    private static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration NO_TIMEOUT = Duration.ZERO;
    private static final Predicate<String> NO_PREFERENCE = server -> false;

    // ---- leasing and waiting ------------------------------------------------------------------

    @Test
    void idleServerIsLeasedToAcquirer() {
        PoolState<String, String> pool = pool(2, 0);
        parkIdle(pool, T0, "s1");

        assertEquals(List.of(lease("s1", "w1")), pool.acquire("w1", T0 + seconds(1), NO_PREFERENCE));
        assertCounts(pool, 1, 0, 1, 0, 0);
    }

    @Test
    void acquirerWithoutIdleServerAndWithRoomConnectsAndWaits() {
        PoolState<String, String> pool = pool(3, 0);

        assertEquals(List.of(connect(pool)), pool.acquire("w1", T0, NO_PREFERENCE));
        assertCounts(pool, 0, 0, 0, 1, 1);
        assertEquals(List.of(connect(pool)), pool.acquire("w2", T0, NO_PREFERENCE));
        assertCounts(pool, 0, 0, 0, 2, 2);
    }

    @Test
    void connectedServerGoesToOldestWaiter() {
        PoolState<String, String> pool = pool(3, 0);
        pool.acquire("w1", T0, NO_PREFERENCE);
        pool.acquire("w2", T0, NO_PREFERENCE);

        // Connects are not tied to a waiter: whichever completes first serves the oldest waiter.
        assertEquals(List.of(lease("s1", "w1")), pool.connected("s1", pool.generation(), T0 + seconds(1)));
        assertCounts(pool, 1, 0, 1, 1, 1);
        assertEquals(List.of(lease("s2", "w2")), pool.connected("s2", pool.generation(), T0 + seconds(2)));
        assertCounts(pool, 2, 0, 2, 0, 0);
    }

    @Test
    void acquirerAtSizeLimitWaitsAndReleasedServerGoesToOldestWaiter() {
        PoolState<String, String> pool = pool(2, 0);
        openLeased(pool, T0, "s1", "s2");

        assertEquals(List.of(), pool.acquire("w3", T0, NO_PREFERENCE));
        assertEquals(List.of(), pool.acquire("w4", T0, NO_PREFERENCE));
        assertCounts(pool, 2, 0, 2, 0, 2);

        assertEquals(List.of(lease("s2", "w3")), pool.release("s2", null, T0 + seconds(1)));
        assertCounts(pool, 2, 0, 2, 0, 1);
        assertEquals(List.of(lease("s1", "w4")), pool.release("s1", null, T0 + seconds(2)));
        assertCounts(pool, 2, 0, 2, 0, 0);
    }

    @Test
    void preferredPredicatePicksMatchingIdleServer() {
        PoolState<String, String> pool = pool(3, 0);
        // loopB/s2 is released last, so it would be first without a preference.
        parkIdle(pool, T0, "loopA/s1", "loopB/s2");

        assertEquals(
                List.of(lease("loopA/s1", "w1")), pool.acquire("w1", T0 + seconds(1), s -> s.startsWith("loopA/")));
        assertCounts(pool, 2, 1, 1, 0, 0);
    }

    @Test
    void anyIdleServerIsLeasedWhenNoneMatchesThePreference() {
        PoolState<String, String> pool = pool(3, 0);
        parkIdle(pool, T0, "loopA/s1", "loopA/s2");

        // An idle server on another loop beats opening a new connection.
        assertEquals(
                List.of(lease("loopA/s2", "w1")), pool.acquire("w1", T0 + seconds(1), s -> s.startsWith("loopB/")));
        assertCounts(pool, 2, 1, 1, 0, 0);
    }

    @Test
    void mostRecentlyReleasedServerIsReusedFirst() {
        PoolState<String, String> pool = pool(3, 0);
        openLeased(pool, T0, "s1", "s2", "s3");
        pool.release("s2", null, T0 + seconds(1));
        pool.release("s3", null, T0 + seconds(2));
        pool.release("s1", null, T0 + seconds(3));

        assertEquals(List.of(lease("s1", "w4")), pool.acquire("w4", T0 + seconds(4), NO_PREFERENCE));
        assertEquals(List.of(lease("s3", "w5")), pool.acquire("w5", T0 + seconds(4), NO_PREFERENCE));
        assertEquals(List.of(lease("s2", "w6")), pool.acquire("w6", T0 + seconds(4), NO_PREFERENCE));
        assertCounts(pool, 3, 0, 3, 0, 0);
    }

    @Test
    void reapClosesLongestIdleServersFirst() {
        PoolState<String, String> pool = pool(3, 1);
        openLeased(pool, T0, "s1", "s2", "s3");
        pool.release("s2", null, T0 + seconds(1));
        pool.release("s3", null, T0 + seconds(2));
        pool.release("s1", null, T0 + seconds(3));

        // All three are past the idle timeout; min-size 1 keeps the one used last warm.
        List<Decision<String, String>> reaped = pool.reap(T0 + seconds(3) + IDLE_TIMEOUT.toNanos());
        assertEquals(List.of(close("s2", CloseReason.IDLE_TIMEOUT), close("s3", CloseReason.IDLE_TIMEOUT)), reaped);
        assertCounts(pool, 1, 1, 0, 0, 0);
        assertEquals(List.of(lease("s1", "w4")), pool.acquire("w4", T0 + seconds(700), NO_PREFERENCE));
    }

    @Test
    void cancelledWaiterIsRemovedOnlyOnce() {
        PoolState<String, String> pool = pool(1, 0);
        openLeased(pool, T0, "s1");
        pool.acquire("w2", T0, NO_PREFERENCE);
        pool.acquire("w3", T0, NO_PREFERENCE);

        assertTrue(pool.cancelWait("w2"));
        assertFalse(pool.cancelWait("w2"));
        assertFalse(pool.cancelWait("never-waited"));
        assertCounts(pool, 1, 0, 1, 0, 1);

        assertEquals(List.of(lease("s1", "w3")), pool.release("s1", null, T0 + seconds(1)));
        assertCounts(pool, 1, 0, 1, 0, 0);
    }

    @Test
    void serverConnectedForCancelledWaiterIsParkedIdle() {
        PoolState<String, String> pool = pool(2, 0);
        pool.acquire("w1", T0, NO_PREFERENCE);
        assertTrue(pool.cancelWait("w1"));
        assertCounts(pool, 0, 0, 0, 1, 0);

        assertEquals(List.of(), pool.connected("s1", pool.generation(), T0 + seconds(1)));
        assertCounts(pool, 1, 1, 0, 0, 0);
        assertEquals(List.of(lease("s1", "w2")), pool.acquire("w2", T0 + seconds(2), NO_PREFERENCE));
    }

    // ---- release ------------------------------------------------------------------------------

    @Test
    void releaseWithCloseReasonClosesServer() {
        PoolState<String, String> pool = pool(2, 0);
        openLeased(pool, T0, "s1");

        assertEquals(
                List.of(close("s1", CloseReason.SERVER_ERROR)),
                pool.release("s1", CloseReason.SERVER_ERROR, T0 + seconds(1)));
        assertCounts(pool, 0, 0, 0, 0, 0);
    }

    @Test
    void releaseWithCloseReasonOpensNewServerForQueuedWaiters() {
        PoolState<String, String> pool = pool(1, 0);
        openLeased(pool, T0, "s1");
        pool.acquire("w2", T0, NO_PREFERENCE);

        assertEquals(
                List.of(close("s1", CloseReason.DIRTY), connect(pool)),
                pool.release("s1", CloseReason.DIRTY, T0 + seconds(1)));
        assertCounts(pool, 0, 0, 0, 1, 1);
        assertEquals(List.of(lease("s2", "w2")), pool.connected("s2", pool.generation(), T0 + seconds(2)));
        assertCounts(pool, 1, 0, 1, 0, 0);
    }

    @Test
    void releasePastServerLifetimeClosesWithLifetime() {
        PoolState<String, String> pool = new PoolState<>(new PoolLimits(2, 0, IDLE_TIMEOUT, Duration.ofMinutes(30)));
        openLeased(pool, T0, "s1");

        assertEquals(List.of(), pool.release("s1", null, T0 + minutes(29)));
        assertCounts(pool, 1, 1, 0, 0, 0);
        pool.acquire("w2", T0 + minutes(29), NO_PREFERENCE);
        assertEquals(List.of(close("s1", CloseReason.LIFETIME)), pool.release("s1", null, T0 + minutes(30)));
        assertCounts(pool, 0, 0, 0, 0, 0);
    }

    @Test
    void releasePastServerLifetimeOpensNewServerForQueuedWaiters() {
        PoolState<String, String> pool = new PoolState<>(new PoolLimits(1, 0, IDLE_TIMEOUT, Duration.ofMinutes(30)));
        openLeased(pool, T0, "s1");
        pool.acquire("w2", T0 + minutes(20), NO_PREFERENCE);

        assertEquals(
                List.of(close("s1", CloseReason.LIFETIME), connect(pool)), pool.release("s1", null, T0 + minutes(31)));
        assertCounts(pool, 0, 0, 0, 1, 1);
        assertEquals(List.of(lease("s2", "w2")), pool.connected("s2", pool.generation(), T0 + minutes(31)));
    }

    @Test
    void releasingServerThatIsNotLeasedThrows() {
        PoolState<String, String> pool = pool(2, 0);
        parkIdle(pool, T0, "s1");

        assertThrows(IllegalStateException.class, () -> pool.release("s1", null, T0));
        assertThrows(IllegalStateException.class, () -> pool.release("unknown", null, T0));
        pool.acquire("w1", T0, NO_PREFERENCE);
        pool.release("s1", null, T0);
        assertThrows(IllegalStateException.class, () -> pool.release("s1", CloseReason.DIRTY, T0));
        assertCounts(pool, 1, 1, 0, 0, 0);
    }

    // ---- housekeeping -------------------------------------------------------------------------

    @Test
    void reapClosesIdleServersAboveMinSizeAfterIdleTimeout() {
        PoolState<String, String> pool = pool(4, 1);
        parkIdle(pool, T0, "s1", "s2", "s3");

        assertEquals(List.of(), pool.reap(T0 + IDLE_TIMEOUT.toNanos() - 1));
        assertCounts(pool, 3, 3, 0, 0, 0);
        assertEquals(
                List.of(close("s1", CloseReason.IDLE_TIMEOUT), close("s2", CloseReason.IDLE_TIMEOUT)),
                pool.reap(T0 + IDLE_TIMEOUT.toNanos()));
        assertCounts(pool, 1, 1, 0, 0, 0);
        assertEquals(List.of(), pool.reap(T0 + minutes(60)));
        assertCounts(pool, 1, 1, 0, 0, 0);
    }

    @Test
    void leasedServersCountTowardMinSizeWhenReaping() {
        PoolState<String, String> pool = pool(4, 2);
        openLeased(pool, T0, "s1", "s2", "s3");
        pool.release("s2", null, T0);
        pool.release("s3", null, T0 + seconds(1));

        assertEquals(List.of(close("s2", CloseReason.IDLE_TIMEOUT)), pool.reap(T0 + minutes(11)));
        assertCounts(pool, 2, 1, 1, 0, 0);
    }

    @Test
    void reapTopsUpToMinSize() {
        PoolState<String, String> pool = pool(4, 2);

        assertEquals(List.of(connect(pool), connect(pool)), pool.reap(T0));
        assertCounts(pool, 0, 0, 0, 2, 0);
        // Connects in flight count, so the next tick does not open more.
        assertEquals(List.of(), pool.reap(T0 + seconds(1)));
        assertEquals(List.of(), pool.connected("s1", pool.generation(), T0 + seconds(2)));
        assertEquals(List.of(), pool.connected("s2", pool.generation(), T0 + seconds(2)));
        assertCounts(pool, 2, 2, 0, 0, 0);
        assertEquals(List.of(), pool.reap(T0 + minutes(60)));
        assertCounts(pool, 2, 2, 0, 0, 0);
    }

    @Test
    void reapTopsUpAfterServerIsLost() {
        PoolState<String, String> pool = pool(4, 2);
        parkIdle(pool, T0, "s1", "s2");

        assertEquals(List.of(), pool.lost("s1", T0));
        assertEquals(List.of(connect(pool)), pool.reap(T0 + seconds(1)));
        assertCounts(pool, 1, 1, 0, 1, 0);
    }

    @Test
    void zeroIdleTimeoutKeepsIdleServersForever() {
        PoolState<String, String> pool = new PoolState<>(new PoolLimits(4, 0, Duration.ZERO, Duration.ZERO));
        parkIdle(pool, T0, "s1", "s2");

        assertEquals(List.of(), pool.reap(T0 + TimeUnit.DAYS.toNanos(365)));
        assertCounts(pool, 2, 2, 0, 0, 0);
    }

    @Test
    void reapClosesIdleServersPastLifetimeEvenAtMinSize() {
        PoolState<String, String> pool = new PoolState<>(new PoolLimits(2, 1, Duration.ZERO, Duration.ofMinutes(30)));
        parkIdle(pool, T0, "s1");

        assertEquals(List.of(), pool.reap(T0 + minutes(29)));
        assertEquals(List.of(close("s1", CloseReason.LIFETIME), connect(pool)), pool.reap(T0 + minutes(30)));
        assertCounts(pool, 0, 0, 0, 1, 0);
    }

    @Test
    void reapKeepsMinSizeWhenAnotherIdleServerExpiresInSameTick() {
        PoolState<String, String> pool = new PoolState<>(new PoolLimits(2, 1, IDLE_TIMEOUT, Duration.ofMinutes(30)));
        openLeased(pool, T0, "s1");
        openLeased(pool, T0 + minutes(10), "s2");
        pool.release("s2", null, T0 + minutes(10));
        pool.release("s1", null, T0 + minutes(25));

        // s2 has been idle 20 minutes (above min-size it would go), but s1 reaches its lifetime: s2 is kept warm.
        assertEquals(List.of(close("s1", CloseReason.LIFETIME)), pool.reap(T0 + minutes(30)));
        assertCounts(pool, 1, 1, 0, 0, 0);
    }

    @Test
    void serverLifetimesAreJitteredSoServersOpenedTogetherExpireApart() {
        Deque<Double> factors = new ArrayDeque<>(List.of(0.9, 1.1));
        PoolState<String, String> pool =
                new PoolState<>(new PoolLimits(2, 0, Duration.ZERO, Duration.ofMinutes(30)), factors::removeFirst);
        parkIdle(pool, T0, "s1", "s2");

        assertEquals(List.of(), pool.reap(T0 + minutes(26)));
        assertEquals(List.of(close("s1", CloseReason.LIFETIME)), pool.reap(T0 + minutes(27)));
        assertEquals(List.of(), pool.reap(T0 + minutes(32)));
        assertEquals(List.of(close("s2", CloseReason.LIFETIME)), pool.reap(T0 + minutes(33)));
    }

    @Test
    void jitteredLifetimesSpreadOverTenPercentEitherWay() {
        var factors = PoolState.jitteredLifetimes(new Random(42));
        double min = 2;
        double max = 0;
        for (int i = 0; i < 1_000; i++) {
            double factor = factors.getAsDouble();
            min = Math.min(min, factor);
            max = Math.max(max, factor);
        }
        assertTrue(min >= 0.9 && min < 0.92, "smallest factor " + min);
        assertTrue(max <= 1.1 && max > 1.08, "largest factor " + max);
    }

    // ---- max-db-connections, max-user-connections, reserve -----------------------------------

    @Test
    void poolsOfOneDatabaseNeverOpenMoreThanMaxDbConnectionsTogether() {
        ConnectionBudget db = new ConnectionBudget("database d", 3);
        PoolLimits limits = new PoolLimits(3, 0, IDLE_TIMEOUT, NO_TIMEOUT);
        PoolState<String, String> a = new PoolState<>(limits, () -> 1.0, db, new ConnectionBudget("user a"));
        PoolState<String, String> b = new PoolState<>(limits, () -> 1.0, db, new ConnectionBudget("user b"));
        openLeased(a, T0, "a1", "a2");
        openLeased(b, T0, "b1");

        assertEquals(List.of(new Decision.NoRoom<>(db)), b.acquire("w", T0, NO_PREFERENCE));
        assertCounts(b, 1, 0, 1, 0, 1);
        assertEquals(3, db.open());

        // An idle server of the other pool makes room; the waiting pool then connects.
        assertEquals(List.of(), a.release("a1", null, T0 + seconds(1)));
        assertEquals(List.of(new Decision.NoRoom<>(db)), b.retryWaiters(T0 + seconds(1)));
        assertEquals(List.of(close("a1", CloseReason.MAKE_ROOM)), a.closeIdleForRoom());
        assertEquals(2, db.open());
        assertEquals(List.of(connect(b)), b.retryWaiters(T0 + seconds(1)));
        assertEquals(List.of(lease("b2", "w")), b.connected("b2", b.generation(), T0 + seconds(2)));
        assertEquals(3, db.open());
    }

    @Test
    void serversOfOneUserCountOverAllDatabasesAndComeBackWhenClosedOrFailed() {
        ConnectionBudget user = new ConnectionBudget("user u", 2);
        PoolLimits limits = new PoolLimits(2, 0, IDLE_TIMEOUT, NO_TIMEOUT);
        PoolState<String, String> d1 = new PoolState<>(limits, () -> 1.0, new ConnectionBudget("database 1"), user);
        PoolState<String, String> d2 = new PoolState<>(limits, () -> 1.0, new ConnectionBudget("database 2"), user);
        openLeased(d1, T0, "s1");
        assertEquals(List.of(connect(d2)), d2.acquire("w1", T0, NO_PREFERENCE));
        assertEquals(List.of(new Decision.NoRoom<>(user)), d2.acquire("w2", T0, NO_PREFERENCE));

        d2.connectFailed(d2.generation(), SqlState.CONNECTION_FAILURE, "refused", T0);
        assertEquals(1, user.open(), "a failed connect gives its room back");
        assertEquals(List.of(close("s1", CloseReason.DIRTY)), d1.release("s1", CloseReason.DIRTY, T0));
        assertEquals(0, user.open(), "a closed server gives its room back");
    }

    @Test
    void keepingMinSizeWarmNeverAsksOtherPoolsForRoom() {
        ConnectionBudget db = new ConnectionBudget("database d", 1);
        PoolLimits limits = new PoolLimits(2, 2, IDLE_TIMEOUT, NO_TIMEOUT);
        PoolState<String, String> pool = new PoolState<>(limits, () -> 1.0, db, new ConnectionBudget("user u"));

        assertEquals(List.of(connect(pool)), pool.reap(T0));
        assertEquals(List.of(), pool.reap(T0 + seconds(1)), "at max-db-connections: no connect, no NoRoom");
    }

    @Test
    void reserveOpensBeyondSizeOnceAClientHasWaitedReserveTimeoutAndClosesFirst() {
        PoolState<String, String> pool =
                new PoolState<>(new PoolLimits(1, 0, IDLE_TIMEOUT, NO_TIMEOUT).withReserve(1, Duration.ofSeconds(5)));
        openLeased(pool, T0, "s1");
        assertEquals(List.of(), pool.acquire("w2", T0, NO_PREFERENCE));

        assertEquals(List.of(), pool.reap(T0 + seconds(4)));
        assertEquals(List.of(connect(pool)), pool.reap(T0 + seconds(5)));
        assertEquals(List.of(lease("s2", "w2")), pool.connected("s2", pool.generation(), T0 + seconds(5)));
        assertCounts(pool, 2, 0, 2, 0, 0);

        // No client waits: the reserve server goes at once, the regular one stays.
        assertEquals(List.of(close("s2", CloseReason.RESERVE)), pool.release("s2", null, T0 + seconds(6)));
        assertEquals(List.of(), pool.release("s1", null, T0 + seconds(6)));
        assertCounts(pool, 1, 1, 0, 0, 0);
    }

    @Test
    void reserveServerGoesToTheNextWaiterWhileClientsStillWait() {
        PoolState<String, String> pool =
                new PoolState<>(new PoolLimits(1, 0, IDLE_TIMEOUT, NO_TIMEOUT).withReserve(1, Duration.ZERO));
        openLeased(pool, T0, "s1");
        pool.acquire("w2", T0, NO_PREFERENCE);
        pool.acquire("w3", T0, NO_PREFERENCE);
        assertEquals(List.of(connect(pool)), pool.reap(T0 + seconds(1)), "one reserve server, not two");
        pool.connected("s2", pool.generation(), T0 + seconds(1));

        assertEquals(List.of(lease("s2", "w3")), pool.release("s2", null, T0 + seconds(2)));
    }

    @Test
    void reserveCountsAgainstMaxDbConnections() {
        ConnectionBudget db = new ConnectionBudget("database d", 1);
        PoolLimits limits = new PoolLimits(1, 0, IDLE_TIMEOUT, NO_TIMEOUT).withReserve(1, Duration.ZERO);
        PoolState<String, String> pool = new PoolState<>(limits, () -> 1.0, db, new ConnectionBudget("user u"));
        openLeased(pool, T0, "s1");
        pool.acquire("w2", T0, NO_PREFERENCE);

        assertEquals(List.of(new Decision.NoRoom<>(db)), pool.reap(T0 + seconds(1)));
    }

    /** One limit per budget, whatever the pools' own settings: a reload that lowers it closes the surplus. */
    @Test
    void aLoweredBudgetLimitClosesSurplusServersAsTheyComeBackAndARaisedOneLetsWaitersConnect() {
        ConnectionBudget db = new ConnectionBudget("database d", 2);
        PoolState<String, String> big = new PoolState<>(limits(5, 0), () -> 1.0, db, new ConnectionBudget("user a"));
        PoolState<String, String> small = new PoolState<>(limits(1, 0), () -> 1.0, db, new ConnectionBudget("user b"));
        openLeased(big, T0, "a1", "a2");
        assertEquals(List.of(new Decision.NoRoom<>(db)), small.acquire("w", T0, NO_PREFERENCE));

        db.limit(1);
        assertEquals(List.of(close("a1", CloseReason.POOL_SHRUNK)), big.release("a1", null, T0 + seconds(1)));
        assertEquals(List.of(), big.release("a2", null, T0 + seconds(1)), "at the limit: parked idle");
        assertEquals(List.of(new Decision.NoRoom<>(db)), small.retryWaiters(T0 + seconds(1)));

        db.limit(3);
        assertEquals(List.of(connect(small)), small.retryWaiters(T0 + seconds(2)));
    }

    // ---- connect failures and lost servers ----------------------------------------------------

    /** size 2, s1 leased, w2 waiting: its connect failed at T0, so none is tried before T0 + 10 s (server-login-retry). */
    private static PoolState<String, String> backingOffWithW2Waiting() {
        PoolState<String, String> pool =
                new PoolState<>(new PoolLimits(2, 0, IDLE_TIMEOUT, NO_TIMEOUT, Duration.ofSeconds(10)));
        openLeased(pool, T0, "s1");
        assertEquals(List.of(connect(pool)), pool.acquire("w2", T0, NO_PREFERENCE));
        assertEquals(List.of(), pool.connectFailed(pool.generation(), SqlState.CONNECTION_FAILURE, "refused", T0));
        return pool;
    }

    @Test
    void aLostServerWaitsOutTheLoginBackOffAsAcquireDoes() {
        PoolState<String, String> pool = backingOffWithW2Waiting();

        // Nothing left that could serve w2 before the next attempt: it is told why now, as a new client would be.
        assertEquals(List.of(reject("w2", SqlState.CONNECTION_FAILURE, "refused")), pool.lost("s1", T0 + seconds(1)));
        assertCounts(pool, 0, 0, 0, 0, 0);
    }

    @Test
    void aResizeWaitsOutTheLoginBackOffAsAcquireDoes() {
        PoolState<String, String> pool = backingOffWithW2Waiting();

        PoolLimits bigger = new PoolLimits(3, 0, IDLE_TIMEOUT, NO_TIMEOUT, Duration.ofSeconds(10));
        assertEquals(List.of(), pool.resize(bigger, T0 + seconds(1)), "no connect before the retry");
        assertEquals(List.of(connect(pool)), pool.reap(T0 + seconds(10)));
    }

    @Test
    void connectFailureWithNothingOpenRejectsAllWaiters() {
        PoolState<String, String> pool = pool(1, 0);
        pool.acquire("w1", T0, NO_PREFERENCE);
        pool.acquire("w2", T0, NO_PREFERENCE);
        assertCounts(pool, 0, 0, 0, 1, 2);

        assertEquals(
                List.of(
                        reject("w1", SqlState.CONNECTION_FAILURE, "server connection failed: refused"),
                        reject("w2", SqlState.CONNECTION_FAILURE, "server connection failed: refused")),
                pool.connectFailed(
                        pool.generation(), SqlState.CONNECTION_FAILURE, "server connection failed: refused", T0));
        assertCounts(pool, 0, 0, 0, 0, 0);
    }

    @Test
    void connectFailureWithAnotherConnectInFlightKeepsWaitersWaiting() {
        PoolState<String, String> pool = pool(2, 0);
        pool.acquire("w1", T0, NO_PREFERENCE);
        pool.acquire("w2", T0, NO_PREFERENCE);

        assertEquals(List.of(), pool.connectFailed(pool.generation(), SqlState.CONNECTION_FAILURE, "refused", T0));
        assertCounts(pool, 0, 0, 0, 1, 2);
        assertEquals(
                List.of(
                        reject("w1", SqlState.INVALID_PASSWORD, "password authentication failed"),
                        reject("w2", SqlState.INVALID_PASSWORD, "password authentication failed")),
                pool.connectFailed(pool.generation(), SqlState.INVALID_PASSWORD, "password authentication failed", T0));
        assertCounts(pool, 0, 0, 0, 0, 0);
    }

    @Test
    void connectFailureWithServerLeasedKeepsWaitersWaiting() {
        PoolState<String, String> pool = pool(2, 0);
        openLeased(pool, T0, "s1");
        assertEquals(List.of(connect(pool)), pool.acquire("w2", T0, NO_PREFERENCE));

        assertEquals(List.of(), pool.connectFailed(pool.generation(), SqlState.CONNECTION_FAILURE, "refused", T0));
        assertCounts(pool, 1, 0, 1, 0, 1);
        assertEquals(List.of(lease("s1", "w2")), pool.release("s1", null, T0 + seconds(1)));
        assertCounts(pool, 1, 0, 1, 0, 0);
    }

    @Test
    void lostIdleServerIsForgottenAndNotHandedOutLater() {
        PoolState<String, String> pool = pool(2, 0);
        parkIdle(pool, T0, "s1", "s2");

        assertEquals(List.of(), pool.lost("s2", T0));
        assertCounts(pool, 1, 1, 0, 0, 0);
        assertEquals(List.of(lease("s1", "w1")), pool.acquire("w1", T0, NO_PREFERENCE));
        assertEquals(List.of(connect(pool)), pool.acquire("w2", T0, NO_PREFERENCE));
        assertCounts(pool, 1, 0, 1, 1, 1);
    }

    @Test
    void lostLeasedServerFreesCapacityForWaiter() {
        PoolState<String, String> pool = pool(1, 0);
        openLeased(pool, T0, "s1");
        assertEquals(List.of(), pool.acquire("w2", T0, NO_PREFERENCE));

        assertEquals(List.of(connect(pool)), pool.lost("s1", T0));
        assertCounts(pool, 0, 0, 0, 1, 1);
        assertEquals(List.of(lease("s2", "w2")), pool.connected("s2", pool.generation(), T0 + seconds(1)));
        assertCounts(pool, 1, 0, 1, 0, 0);
        // The client of a lost server does not release it; one that tries is told it is not leased.
        assertThrows(IllegalStateException.class, () -> pool.release("s1", CloseReason.SERVER_ERROR, T0));
    }

    @Test
    void aServerComingFreeGoesToAWaiterOnItsOwnLoopButTheLongestWaitingIsPassedOverOnlySixteenTimes() {
        // Servers and waiters named by loop: "a/..." suits "a-...".
        PoolState<String, String> pool = new PoolState<>(
                limits(1, 0),
                () -> 1.0,
                new ConnectionBudget("database"),
                new ConnectionBudget("user"),
                (server, waiter) -> server.charAt(0) == waiter.charAt(0));
        assertEquals(List.of(connect(pool)), pool.acquire("a-first", T0, NO_PREFERENCE));
        assertEquals(List.of(lease("a/s1", "a-first")), pool.connected("a/s1", pool.generation(), T0));
        pool.acquire("b-oldest", T0, NO_PREFERENCE);
        for (int i = 1; i <= 17; i++) {
            pool.acquire("a-" + i, T0 + i, NO_PREFERENCE);
        }

        // Sixteen times a client of the server's own loop goes first, in order; then the oldest waiter's turn comes.
        String holder = "a-first";
        for (int i = 1; i <= 16; i++) {
            assertEquals(List.of(lease("a/s1", "a-" + i)), pool.release("a/s1", null, T0 + seconds(i)), holder);
            holder = "a-" + i;
        }
        assertEquals(List.of(lease("a/s1", "b-oldest")), pool.release("a/s1", null, T0 + seconds(17)));
        assertEquals(List.of(lease("a/s1", "a-17")), pool.release("a/s1", null, T0 + seconds(18)));
    }

    @Test
    void aServerLostWhileItsClientWaitedForACancelAnswerIsNotReleasedAgain() {
        PoolState<String, String> pool = pool(1, 0);
        openLeased(pool, T0, "s1");
        pool.lost("s1", T0);

        assertEquals(List.of(), pool.releaseUnlessLost("s1", null, T0));
        assertCounts(pool, 0, 0, 0, 0, 0);
        // A server still leased goes back as release would put it.
        openLeased(pool, T0, "s2");
        assertEquals(List.of(), pool.releaseUnlessLost("s2", null, T0));
        assertCounts(pool, 1, 1, 0, 0, 0);
    }

    @Test
    void lostServerThatWasAlreadyClosedIsIgnored() {
        PoolState<String, String> pool = pool(2, 0);
        openLeased(pool, T0, "s1");
        pool.release("s1", CloseReason.DIRTY, T0);

        // Closing a server makes its channel go inactive, which reports it lost: nothing to do.
        assertEquals(List.of(), pool.lost("s1", T0));
        assertEquals(List.of(), pool.lost("never-opened", T0));
        assertCounts(pool, 0, 0, 0, 0, 0);
    }

    @Test
    void lostIdleServerIsFoundByEqualityLikeEveryOtherCall() {
        PoolState<String, String> pool = pool(2, 0);
        parkIdle(pool, T0, "s1");

        String equalHandle = new String("s1");
        assertEquals(List.of(), pool.lost(equalHandle, T0));
        assertCounts(pool, 0, 0, 0, 0, 0);
        assertEquals(List.of(connect(pool)), pool.acquire("w1", T0, NO_PREFERENCE));
    }

    // ---- resize and close ---------------------------------------------------------------------

    @Test
    void shrinkClosesSurplusIdleServersAtOnceAndLeasedOnesWhenReleased() {
        PoolState<String, String> pool = pool(4, 0);
        openLeased(pool, T0, "s1", "s2", "s3", "s4");
        pool.release("s1", null, T0 + seconds(1));
        pool.release("s2", null, T0 + seconds(2));

        assertEquals(
                List.of(close("s1", CloseReason.POOL_SHRUNK), close("s2", CloseReason.POOL_SHRUNK)),
                pool.resize(limits(1, 0), T0 + seconds(3)));
        assertCounts(pool, 2, 0, 2, 0, 0);
        assertEquals(List.of(close("s3", CloseReason.POOL_SHRUNK)), pool.release("s3", null, T0 + seconds(4)));
        assertCounts(pool, 1, 0, 1, 0, 0);
        assertEquals(List.of(), pool.release("s4", null, T0 + seconds(5)));
        assertCounts(pool, 1, 1, 0, 0, 0);
        assertEquals(1, pool.limits().size());
    }

    @Test
    void shrinkHandsLastServerWithinSizeToWaiter() {
        PoolState<String, String> pool = pool(2, 0);
        openLeased(pool, T0, "s1", "s2");
        pool.acquire("w3", T0, NO_PREFERENCE);

        assertEquals(List.of(), pool.resize(limits(1, 0), T0));
        // s1 is surplus: it closes without a new connect, and the waiter gets s2 when it comes back.
        assertEquals(List.of(close("s1", CloseReason.POOL_SHRUNK)), pool.release("s1", null, T0 + seconds(1)));
        assertCounts(pool, 1, 0, 1, 0, 1);
        assertEquals(List.of(lease("s2", "w3")), pool.release("s2", null, T0 + seconds(2)));
        assertCounts(pool, 1, 0, 1, 0, 0);
    }

    @Test
    void growConnectsForQueuedWaiters() {
        PoolState<String, String> pool = pool(1, 0);
        openLeased(pool, T0, "s1");
        pool.acquire("w2", T0, NO_PREFERENCE);
        pool.acquire("w3", T0, NO_PREFERENCE);

        assertEquals(List.of(connect(pool), connect(pool)), pool.resize(limits(3, 0), T0 + seconds(1)));
        assertCounts(pool, 1, 0, 1, 2, 2);
    }

    @Test
    void serverConnectedAfterShrinkIsClosedWhenSurplus() {
        PoolState<String, String> pool = pool(2, 0);
        openLeased(pool, T0, "s1");
        assertEquals(List.of(connect(pool)), pool.acquire("w2", T0, NO_PREFERENCE));
        assertTrue(pool.cancelWait("w2"));
        pool.resize(limits(1, 0), T0);

        assertEquals(
                List.of(close("s2", CloseReason.POOL_SHRUNK)),
                pool.connected("s2", pool.generation(), T0 + seconds(1)));
        assertCounts(pool, 1, 0, 1, 0, 0);
    }

    @Test
    void closeRejectsWaitersAndClosesLeasedServersWhenReleased() {
        PoolState<String, String> pool = pool(2, 0);
        openLeased(pool, T0, "s1", "s2");
        pool.acquire("w3", T0, NO_PREFERENCE);
        pool.acquire("w4", T0, NO_PREFERENCE);

        assertEquals(
                List.of(
                        reject("w3", SqlState.ADMIN_SHUTDOWN, "pgmux is shutting down"),
                        reject("w4", SqlState.ADMIN_SHUTDOWN, "pgmux is shutting down")),
                pool.close(SqlState.ADMIN_SHUTDOWN, "pgmux is shutting down"));
        assertTrue(pool.isClosed());
        assertCounts(pool, 2, 0, 2, 0, 0);
        assertEquals(List.of(close("s1", CloseReason.SHUTDOWN)), pool.release("s1", null, T0 + seconds(1)));
        // A reason the client gives is kept, and no connect is opened for anybody.
        assertEquals(List.of(close("s2", CloseReason.DIRTY)), pool.release("s2", CloseReason.DIRTY, T0));
        assertCounts(pool, 0, 0, 0, 0, 0);
    }

    @Test
    void closeClosesIdleServersAtOnce() {
        PoolState<String, String> pool = pool(3, 0);
        openLeased(pool, T0, "s1", "s2", "s3");
        pool.release("s1", null, T0);
        pool.release("s2", null, T0);

        assertSameDecisions(
                List.of(close("s1", CloseReason.SHUTDOWN), close("s2", CloseReason.SHUTDOWN)),
                pool.close(SqlState.ADMIN_SHUTDOWN, "pgmux is shutting down"));
        assertCounts(pool, 1, 0, 1, 0, 0);
        assertEquals(List.of(close("s3", CloseReason.SHUTDOWN)), pool.release("s3", null, T0));
        assertCounts(pool, 0, 0, 0, 0, 0);
    }

    @Test
    void closedPoolRejectsAcquirersAndClosesLateConnects() {
        PoolState<String, String> pool = pool(2, 2);
        assertEquals(List.of(connect(pool), connect(pool)), pool.reap(T0));
        pool.close(SqlState.ADMIN_SHUTDOWN, "pgmux is shutting down");

        List<Decision<String, String>> decisions = pool.acquire("w1", T0, NO_PREFERENCE);
        assertEquals(1, decisions.size());
        Decision.Reject<String, String> rejected = (Decision.Reject<String, String>) decisions.get(0);
        assertEquals("w1", rejected.waiter());
        assertEquals(SqlState.ADMIN_SHUTDOWN, rejected.sqlState());
        assertEquals(
                List.of(close("s1", CloseReason.SHUTDOWN)), pool.connected("s1", pool.generation(), T0 + seconds(1)));
        assertEquals(List.of(), pool.connectFailed(pool.generation(), SqlState.CONNECTION_FAILURE, "refused", T0));
        // A closed pool does not top up min-size.
        assertEquals(List.of(), pool.reap(T0 + minutes(60)));
        assertCounts(pool, 0, 0, 0, 0, 0);
    }

    // ---- invariants under random operations ---------------------------------------------------

    @Test
    void randomOperationsKeepPoolConsistent() {
        Random random = new Random(0x9e3779b97f4a7c15L);
        // 20 pools of random limits, 500 steps each: 10,000 steps in all.
        for (int run = 0; run < 20; run++) {
            new RandomRun(run, random).run(500);
        }
    }

    /**
     * Drives one {@link PoolState} with random calls and mirrors every decision in a small model of its own (the
     * servers open, idle and leased, the waiters, the connects in flight), then checks the pool's counts against
     * the model and the invariants a pool must keep.
     */
    private static final class RandomRun {
        private static final CloseReason[] CLIENT_REASONS = {
            CloseReason.DIRTY, CloseReason.SERVER_ERROR, CloseReason.CHECK_FAILED, CloseReason.RECONNECT
        };

        private final int run;
        private final Random random;
        private final PoolState<String, String> pool;
        private PoolLimits limits;
        private final Map<String, Long> bornNanos = new HashMap<>();
        private final Deque<String> idle = new ArrayDeque<>(); // most recently used first, as in PoolState
        private final Map<String, Long> idleSinceNanos = new HashMap<>();
        private final Map<String, String> leasedTo = new HashMap<>();
        private final Deque<String> waiting = new ArrayDeque<>();
        private final Deque<String> history = new ArrayDeque<>();
        /** The generation of each connect in flight, in the order decided. */
        private final List<PoolState.Generation> connects = new ArrayList<>();
        /** The generation each open server was connected in. */
        private final Map<String, Integer> generationOf = new HashMap<>();

        private boolean closed;
        private long nowNanos = T0;
        private int servers;
        private int waiters;

        RandomRun(int run, Random random) {
            this.run = run;
            this.random = random;
            this.limits = randomLimits();
            this.pool = new PoolState<>(limits);
        }

        void run(int steps) {
            for (int step = 0; step < steps; step++) {
                int totalBefore = total();
                nowNanos += TimeUnit.MILLISECONDS.toNanos(random.nextInt(2_000));
                if (step == steps - steps / 10) {
                    closePool();
                } else {
                    int op = random.nextInt(100);
                    if (op < 30) {
                        acquire();
                    } else if (op < 45) {
                        completeConnect();
                    } else if (op < 52) {
                        failConnect();
                    } else if (op < 72) {
                        release();
                    } else if (op < 77) {
                        lost();
                    } else if (op < 87) {
                        reap();
                    } else if (op < 95) {
                        cancel();
                    } else if (op < 98) {
                        resize();
                    } else {
                        reconnect();
                    }
                }
                check(totalBefore);
            }
        }

        private PoolLimits randomLimits() {
            int size = 1 + random.nextInt(4);
            Duration[] idleTimeouts = {Duration.ZERO, Duration.ofSeconds(10), Duration.ofSeconds(60)};
            Duration[] lifetimes = {Duration.ZERO, Duration.ofSeconds(120), Duration.ofSeconds(600)};
            return new PoolLimits(
                    size,
                    random.nextInt(size + 1),
                    idleTimeouts[random.nextInt(idleTimeouts.length)],
                    lifetimes[random.nextInt(lifetimes.length)]);
        }

        private void acquire() {
            String waiter = "w" + ++waiters;
            String loop = "@L" + random.nextInt(2);
            String expected =
                    idle.stream().filter(s -> s.endsWith(loop)).findFirst().orElse(idle.peekFirst());
            record("acquire " + waiter + " preferring " + loop);
            List<Decision<String, String>> decisions = pool.acquire(waiter, nowNanos, s -> s.endsWith(loop));
            if (closed) {
                assertEquals(1, decisions.size(), this::describe);
                assertTrue(
                        decisions.get(0) instanceof Decision.Reject<String, String> rejected
                                && rejected.waiter().equals(waiter),
                        this::describe);
            } else if (expected != null) {
                assertEquals(List.of(lease(expected, waiter)), decisions, this::describe);
                idle.remove(expected);
                idleSinceNanos.remove(expected);
                leasedTo.put(expected, waiter);
            } else {
                waiting.addLast(waiter);
                assertTrue(decisions.isEmpty() || decisions.equals(List.of(connect(pool))), this::describe);
                apply(decisions, null);
            }
        }

        private void completeConnect() {
            if (connects.isEmpty()) {
                return;
            }
            PoolState.Generation generation = connects.remove(random.nextInt(connects.size()));
            boolean stale = generation.number() != pool.generation().number();
            String server = "s" + ++servers + "@L" + random.nextInt(2);
            record("connected " + server + " of generation " + generation.number());
            bornNanos.put(server, nowNanos);
            generationOf.put(server, generation.number());
            List<Decision<String, String>> decisions = pool.connected(server, generation, nowNanos);
            if (closed) {
                assertEquals(List.of(close(server, CloseReason.SHUTDOWN)), decisions, this::describe);
            } else if (stale) {
                assertEquals(close(server, CloseReason.RECONNECT), decisions.get(0), this::describe);
            }
            apply(decisions, server);
        }

        private void failConnect() {
            if (connects.isEmpty()) {
                return;
            }
            PoolState.Generation generation = connects.remove(random.nextInt(connects.size()));
            boolean stale = generation.number() != pool.generation().number();
            record("connect of generation " + generation.number() + " failed");
            boolean nothingCouldServe = bornNanos.isEmpty() && connects.isEmpty();
            int waitingBefore = waiting.size();
            List<Decision<String, String>> decisions =
                    pool.connectFailed(generation, SqlState.CONNECTION_FAILURE, "refused", nowNanos);
            if (stale) {
                // Its waiters get a connect of the current generation instead of an error.
                assertTrue(decisions.stream().allMatch(d -> d instanceof Decision.Connect), this::describe);
            } else {
                assertEquals(nothingCouldServe ? waitingBefore : 0, decisions.size(), this::describe);
                assertTrue(decisions.stream().allMatch(d -> d instanceof Decision.Reject), this::describe);
            }
            apply(decisions, null);
        }

        private void reconnect() {
            record("reconnect");
            List<Decision<String, String>> decisions = pool.reconnect(nowNanos);
            assertClosesFor(CloseReason.RECONNECT, Decision.Connect.class, decisions);
            apply(decisions, null);
            assertTrue(idle.isEmpty(), () -> "idle server kept over a reconnect\n" + describe());
        }

        private void release() {
            if (leasedTo.isEmpty()) {
                return;
            }
            String server = pick(leasedTo.keySet());
            CloseReason reason = random.nextInt(5) == 0 ? CLIENT_REASONS[random.nextInt(CLIENT_REASONS.length)] : null;
            long lifetime = limits.serverLifetime().toNanos();
            boolean expired = lifetime > 0 && nowNanos - bornNanos.get(server) >= lifetime;
            boolean stale = generationOf.get(server) != pool.generation().number();
            record("release " + server + " reason " + reason + (expired ? " (expired)" : ""));
            leasedTo.remove(server);
            List<Decision<String, String>> decisions = pool.release(server, reason, nowNanos);
            if (reason != null) {
                assertTrue(decisions.contains(close(server, reason)), this::describe);
            } else if (closed) {
                assertTrue(decisions.contains(close(server, CloseReason.SHUTDOWN)), this::describe);
            } else if (stale) {
                assertTrue(decisions.contains(close(server, CloseReason.RECONNECT)), this::describe);
            } else if (expired) {
                assertTrue(decisions.contains(close(server, CloseReason.LIFETIME)), this::describe);
            }
            apply(decisions, server);
            assertConnectsOnlyForWaiters(decisions);
        }

        private void lost() {
            String server = bornNanos.isEmpty() || random.nextInt(10) == 0 ? "gone" : pick(bornNanos.keySet());
            record("lost " + server);
            bornNanos.remove(server);
            idle.remove(server);
            idleSinceNanos.remove(server);
            leasedTo.remove(server);
            List<Decision<String, String>> decisions = pool.lost(server, nowNanos);
            assertTrue(decisions.stream().allMatch(d -> d instanceof Decision.Connect), this::describe);
            apply(decisions, null);
            assertConnectsOnlyForWaiters(decisions);
        }

        /** Outside housekeeping and acquire, a connect is opened only for a waiter no connect in flight covers. */
        private void assertConnectsOnlyForWaiters(List<Decision<String, String>> decisions) {
            if (decisions.stream().anyMatch(d -> d instanceof Decision.Connect)) {
                assertTrue(connects.size() <= waiting.size(), () -> "connect nobody waits for\n" + describe());
            }
        }

        private void reap() {
            nowNanos += TimeUnit.MILLISECONDS.toNanos(random.nextInt(30_000));
            record("reap");
            List<Decision<String, String>> decisions = pool.reap(nowNanos);
            int open = bornNanos.size();
            for (Decision<String, String> decision : decisions) {
                if (decision instanceof Decision.Close<String, String> close) {
                    if (close.reason() == CloseReason.IDLE_TIMEOUT) {
                        assertTrue(open > limits.minSize(), () -> "reaped at min-size\n" + describe());
                    }
                    open--;
                } else {
                    assertTrue(decision instanceof Decision.Connect, this::describe);
                }
            }
            apply(decisions, null);
            if (closed) {
                assertTrue(decisions.isEmpty(), this::describe);
                return;
            }
            assertTrue(total() >= limits.minSize(), () -> "min-size kept warm\n" + describe());
            assertTrue(bornNanos.size() <= limits.size() || idle.isEmpty(), () -> "surplus reaped\n" + describe());
            long idleTimeout = limits.serverIdleTimeout().toNanos();
            long lifetime = limits.serverLifetime().toNanos();
            for (String server : idle) {
                if (lifetime > 0) {
                    assertTrue(nowNanos - bornNanos.get(server) < lifetime, () -> "expired kept\n" + describe());
                }
                if (idleTimeout > 0 && nowNanos - idleSinceNanos.get(server) >= idleTimeout) {
                    assertTrue(bornNanos.size() <= limits.minSize(), () -> "idle kept\n" + describe());
                }
            }
        }

        private void cancel() {
            String waiter =
                    !waiting.isEmpty() && random.nextBoolean() ? pick(waiting) : "w" + random.nextInt(waiters + 2);
            record("cancel " + waiter);
            boolean wasWaiting = waiting.remove(waiter);
            assertEquals(wasWaiting, pool.cancelWait(waiter), this::describe);
        }

        private void resize() {
            limits = randomLimits();
            record("resize to " + limits);
            apply(pool.resize(limits, nowNanos), null);
        }

        private void closePool() {
            record("close");
            closed = true;
            List<Decision<String, String>> decisions = pool.close(SqlState.ADMIN_SHUTDOWN, "pgmux is shutting down");
            assertClosesFor(CloseReason.SHUTDOWN, Decision.Reject.class, decisions);
            apply(decisions, null);
            assertTrue(pool.isClosed(), this::describe);
        }

        /** Each decision closes a server for {@code reason}, or else is an {@code other}. */
        private void assertClosesFor(CloseReason reason, Class<?> other, List<Decision<String, String>> decisions) {
            for (Decision<String, String> decision : decisions) {
                if (decision instanceof Decision.Close<String, String> close) {
                    assertEquals(reason, close.reason(), this::describe);
                } else {
                    assertTrue(other.isInstance(decision), this::describe);
                }
            }
        }

        /**
         * Mirrors {@code decisions} in the model. {@code inHand} is a server that just came back or connected: it is
         * leased, closed, or else parked idle.
         */
        private void apply(List<Decision<String, String>> decisions, String inHand) {
            boolean placed = false;
            for (Decision<String, String> decision : decisions) {
                if (decision instanceof Decision.Lease<String, String> lease) {
                    // Idle servers never meet queued waiters, so only a server that just became free is handed over.
                    assertEquals(inHand, lease.server(), () -> "leased a server not in hand\n" + describe());
                    assertEquals(waiting.peekFirst(), lease.waiter(), () -> "not the oldest waiter\n" + describe());
                    assertFalse(placed, () -> "server placed twice\n" + describe());
                    waiting.pollFirst();
                    assertNull(leasedTo.put(lease.server(), lease.waiter()), () -> "leased twice\n" + describe());
                    assertFalse(idle.contains(lease.server()), () -> "leased while idle\n" + describe());
                    placed = true;
                } else if (decision instanceof Decision.Connect<String, String> connect) {
                    assertEquals(
                            pool.generation(),
                            connect.generation(),
                            () -> "connect of an old generation\n" + describe());
                    connects.add(connect.generation());
                } else if (decision instanceof Decision.Reject<String, String> reject) {
                    assertTrue(waiting.remove(reject.waiter()), () -> "rejected a non-waiter\n" + describe());
                } else if (decision instanceof Decision.Close<String, String> close) {
                    String server = close.server();
                    assertFalse(leasedTo.containsKey(server), () -> "closed a leased server\n" + describe());
                    if (server.equals(inHand)) {
                        assertFalse(placed, () -> "server placed twice\n" + describe());
                        placed = true;
                    } else {
                        assertTrue(idle.remove(server), () -> "closed a server that was not idle\n" + describe());
                        idleSinceNanos.remove(server);
                    }
                    assertNotNull(bornNanos.remove(server), () -> "closed a server not open\n" + describe());
                }
            }
            if (inHand != null && !placed) {
                idle.addFirst(inHand);
                idleSinceNanos.put(inHand, nowNanos);
            }
        }

        private void check(int totalBefore) {
            assertEquals(
                    List.of(bornNanos.size(), idle.size(), leasedTo.size(), connects.size(), waiting.size()),
                    List.of(
                            pool.openCount(),
                            pool.idleCount(),
                            pool.leasedCount(),
                            pool.connectingCount(),
                            pool.waitingCount()),
                    () -> "open, idle, leased, connecting, waiting\n" + describe());
            assertEquals(bornNanos.size(), idle.size() + leasedTo.size(), this::describe);
            assertTrue(bornNanos.keySet().containsAll(idle), this::describe);
            assertTrue(bornNanos.keySet().containsAll(leasedTo.keySet()), this::describe);
            assertTrue(idle.stream().noneMatch(leasedTo::containsKey), () -> "idle and leased\n" + describe());
            // Only a shrink leaves the pool over size, and then it must not grow until it fits again.
            assertTrue(
                    total() <= Math.max(limits.size(), totalBefore),
                    () -> "open + connecting past size\n" + describe());
            if (!waiting.isEmpty()) {
                assertTrue(idle.isEmpty(), () -> "waiting while a server is idle\n" + describe());
                assertTrue(!connects.isEmpty() || !leasedTo.isEmpty(), () -> "waiters stranded\n" + describe());
            }
            if (closed) {
                assertTrue(waiting.isEmpty() && idle.isEmpty(), this::describe);
            }
        }

        private int total() {
            return bornNanos.size() + connects.size();
        }

        private <T extends Comparable<T>> T pick(Collection<T> from) {
            List<T> sorted = new ArrayList<>(from);
            sorted.sort(Comparator.naturalOrder());
            return sorted.get(random.nextInt(sorted.size()));
        }

        private void record(String step) {
            history.addLast(step);
            if (history.size() > 30) {
                history.removeFirst();
            }
        }

        private String describe() {
            return "run " + run + " " + limits + "\nopen " + bornNanos.keySet() + " idle " + idle + " leased "
                    + leasedTo + " waiting " + waiting + " connects " + connects.size() + "\nlast steps:\n  "
                    + String.join("\n  ", history);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static PoolState<String, String> pool(int size, int minSize) {
        return new PoolState<>(limits(size, minSize));
    }

    private static PoolLimits limits(int size, int minSize) {
        return new PoolLimits(size, minSize, IDLE_TIMEOUT, NO_TIMEOUT);
    }

    // ---- PAUSE, RESUME, RECONNECT -------------------------------------------------------------

    @Test
    void pauseClosesIdleServersAtOnceAndLeasedOnesWhenReleased() {
        PoolState<String, String> pool = pool(3, 0);
        openLeased(pool, T0, "s1", "s2");
        pool.release("s1", null, T0);

        assertEquals(List.of(close("s1", CloseReason.PAUSE)), pool.pause());
        assertFalse(pool.isDrained());
        assertEquals(List.of(close("s2", CloseReason.PAUSE)), pool.release("s2", null, T0 + seconds(1)));
        assertTrue(pool.isDrained());
        assertCounts(pool, 0, 0, 0, 0, 0);
    }

    @Test
    void pausedPoolHoldsNewClientsUntilResume() {
        PoolState<String, String> pool = pool(3, 1);
        pool.pause();

        assertEquals(List.of(), pool.acquire("w1", T0, NO_PREFERENCE));
        assertEquals(List.of(), pool.reap(T0 + seconds(1)), "no min-size top-up while paused");
        assertCounts(pool, 0, 0, 0, 0, 1);

        assertEquals(List.of(connect(pool)), pool.resume(T0 + seconds(2)));
        assertEquals(List.of(lease("s1", "w1")), pool.connected("s1", pool.generation(), T0 + seconds(3)));
        assertFalse(pool.isPaused());
    }

    @Test
    void aConnectThatLandsWhilePausedIsClosed() {
        PoolState<String, String> pool = pool(3, 0);
        pool.acquire("w1", T0, NO_PREFERENCE);
        pool.pause();
        assertFalse(pool.isDrained(), "a connect is in flight");

        assertEquals(List.of(close("s1", CloseReason.PAUSE)), pool.connected("s1", pool.generation(), T0 + seconds(1)));
        assertTrue(pool.isDrained());
        assertCounts(pool, 0, 0, 0, 0, 1);
    }

    @Test
    void reconnectReplacesIdleServersNowAndLeasedOnesOnRelease() {
        PoolState<String, String> pool = pool(3, 0);
        openLeased(pool, T0, "s1", "s2");
        pool.release("s1", null, T0);

        assertEquals(List.of(close("s1", CloseReason.RECONNECT)), pool.reconnect(T0 + seconds(1)));
        assertEquals(List.of(close("s2", CloseReason.RECONNECT)), pool.release("s2", null, T0 + seconds(2)));
        // Servers opened after the RECONNECT stay.
        openLeased(pool, T0 + seconds(3), "s3");
        assertEquals(List.of(), pool.release("s3", null, T0 + seconds(4)));
        assertCounts(pool, 1, 1, 0, 0, 0);
    }

    @Test
    void aConnectInFlightAtReconnectIsClosedWhenItCompletesAndItsWaiterGetsANewOne() {
        PoolState<String, String> pool = pool(2, 0);
        assertEquals(List.of(connect(pool)), pool.acquire("w1", T0, NO_PREFERENCE));
        PoolState.Generation before = pool.generation();

        assertEquals(List.of(), pool.reconnect(T0 + seconds(1)), "the connect in flight still covers w1");
        assertEquals(
                List.of(close("s1", CloseReason.RECONNECT), connect(pool)),
                pool.connected("s1", before, T0 + seconds(2)));
        assertEquals(List.of(lease("s2", "w1")), pool.connected("s2", pool.generation(), T0 + seconds(3)));
        assertCounts(pool, 1, 0, 1, 0, 0);
    }

    @Test
    void aConnectOfAnOlderGenerationThatFailsNeitherRejectsNorBacksOff() {
        PoolState<String, String> pool =
                new PoolState<>(new PoolLimits(2, 0, IDLE_TIMEOUT, NO_TIMEOUT, Duration.ofSeconds(10)));
        pool.acquire("w1", T0, NO_PREFERENCE);
        PoolState.Generation before = pool.generation();
        pool.reconnect(T0);

        // The old address failing says nothing about the new one: w1 gets a connect there at once.
        assertEquals(
                List.of(connect(pool)),
                pool.connectFailed(before, SqlState.CONNECTION_FAILURE, "refused", T0 + seconds(1)));
        assertEquals(List.of(lease("s1", "w1")), pool.connected("s1", pool.generation(), T0 + seconds(2)));
    }

    /** A reload moved the pool to another server user: old servers give their room back to the old user's budget. */
    @Test
    void reconnectOntoAnotherUserBudgetLeavesOldServersInTheOldOne() {
        ConnectionBudget db = new ConnectionBudget("database d");
        ConnectionBudget oldUser = new ConnectionBudget("user old");
        ConnectionBudget newUser = new ConnectionBudget("user new", 1);
        PoolState<String, String> pool = new PoolState<>(limits(3, 0), () -> 1.0, db, oldUser);
        openLeased(pool, T0, "s1");
        assertEquals(List.of(connect(pool)), pool.acquire("w2", T0, NO_PREFERENCE));
        PoolState.Generation before = pool.generation();

        assertEquals(List.of(), pool.reconnect(db, newUser, T0 + seconds(1)));
        assertEquals(List.of(2, 0), List.of(oldUser.open(), newUser.open()));
        assertEquals(
                List.of(close("s2", CloseReason.RECONNECT), connect(pool)),
                pool.connected("s2", before, T0 + seconds(2)));
        assertEquals(List.of(1, 1), List.of(oldUser.open(), newUser.open()));
        assertEquals(List.of(close("s1", CloseReason.RECONNECT)), pool.release("s1", null, T0 + seconds(3)));
        assertEquals(List.of(0, 1), List.of(oldUser.open(), newUser.open()));
        assertEquals(List.of(lease("s3", "w2")), pool.connected("s3", pool.generation(), T0 + seconds(4)));
        assertEquals(List.of(0, 1, 1), List.of(oldUser.open(), newUser.open(), db.open()));
    }

    @Test
    void longestWaitIsThatOfTheFirstInLine() {
        PoolState<String, String> pool = pool(1, 0);
        openLeased(pool, T0, "s1");
        assertEquals(0, pool.longestWaitNanos(T0 + seconds(1)));
        pool.acquire("w1", T0 + seconds(1), NO_PREFERENCE);
        pool.acquire("w2", T0 + seconds(2), NO_PREFERENCE);
        assertEquals(seconds(4), pool.longestWaitNanos(T0 + seconds(5)));
    }

    private static long seconds(long seconds) {
        return TimeUnit.SECONDS.toNanos(seconds);
    }

    private static long minutes(long minutes) {
        return TimeUnit.MINUTES.toNanos(minutes);
    }

    /** Opens each server through acquire and connected, leaving it leased to {@code "w-" + server}. */
    private static void openLeased(PoolState<String, String> pool, long nowNanos, String... servers) {
        for (String server : servers) {
            assertEquals(List.of(connect(pool)), pool.acquire("w-" + server, nowNanos, NO_PREFERENCE));
            assertEquals(List.of(lease(server, "w-" + server)), pool.connected(server, pool.generation(), nowNanos));
        }
    }

    /** Opens each server and releases it, in order, so the last one is the most recently used. */
    private static void parkIdle(PoolState<String, String> pool, long nowNanos, String... servers) {
        openLeased(pool, nowNanos, servers);
        for (String server : servers) {
            assertEquals(List.of(), pool.release(server, null, nowNanos));
        }
    }

    /** Compares decisions whose order carries no meaning. */
    private static void assertSameDecisions(
            List<Decision<String, String>> expected, List<Decision<String, String>> actual) {
        Comparator<Decision<String, String>> byText = Comparator.comparing(Object::toString);
        assertEquals(
                expected.stream().sorted(byText).toList(),
                actual.stream().sorted(byText).toList());
    }

    private static void assertCounts(
            PoolState<String, String> pool, int open, int idle, int leased, int connecting, int waiting) {
        assertEquals(
                List.of(open, idle, leased, connecting, waiting),
                List.of(
                        pool.openCount(),
                        pool.idleCount(),
                        pool.leasedCount(),
                        pool.connectingCount(),
                        pool.waitingCount()),
                "open, idle, leased, connecting, waiting");
        assertEquals(pool.openCount(), pool.idleCount() + pool.leasedCount(), "open = idle + leased");
        assertTrue(pool.waitingCount() == 0 || pool.idleCount() == 0, "a waiter waits while a server is idle");
    }

    private static Decision<String, String> lease(String server, String waiter) {
        return new Decision.Lease<>(server, waiter);
    }

    private static Decision<String, String> connect(PoolState<String, String> pool) {
        return new Decision.Connect<>(pool.generation());
    }

    private static Decision<String, String> reject(String waiter, SqlState sqlState, String message) {
        return new Decision.Reject<>(waiter, sqlState, message);
    }

    private static Decision<String, String> close(String server, CloseReason reason) {
        return new Decision.Close<>(server, reason);
    }
}
