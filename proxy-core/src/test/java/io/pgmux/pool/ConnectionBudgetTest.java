package io.pgmux.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shared counter behind max-db-connections and max-user-connections, with hand-made member pools. */
class ConnectionBudgetTest {
    private final List<String> calls = new ArrayList<>();

    @Test
    void takesUpToTheLimitAndCountsWithoutOne() {
        ConnectionBudget budget = new ConnectionBudget("database d", 2);
        assertTrue(budget.tryTake());
        assertTrue(budget.tryTake());
        assertFalse(budget.tryTake());
        assertEquals(2, budget.open());
        budget.give();
        assertTrue(budget.tryTake());
        budget.limit(0);
        assertTrue(budget.tryTake(), "0 = unlimited, still counted");
        assertEquals(3, budget.open());
    }

    /** A reload changes the one limit of the budget: raised, the starving get room; lowered, it reports the surplus. */
    @Test
    void aNewLimitWakesStarvingMembersWhenRaisedAndShowsTheSurplusWhenLowered() {
        ConnectionBudget budget = new ConnectionBudget("database d", 1);
        Member starving = new Member("starving", false);
        budget.join(starving);
        assertTrue(budget.tryTake());
        assertFalse(budget.tryTake());
        budget.noRoom(starving);

        budget.limit(2);
        budget.wake();
        assertEquals(List.of("starving retries"), calls);
        assertTrue(budget.tryTake());
        assertFalse(budget.isOverLimit());

        budget.limit(1);
        assertTrue(budget.isOverLimit(), "two taken, one allowed");
        assertFalse(budget.tryTake());
        budget.give();
        assertFalse(budget.isOverLimit());
    }

    @Test
    void aStarvingMemberMakesAnotherCloseAnIdleServerAndIsWokenOnce() {
        ConnectionBudget budget = new ConnectionBudget("database d");
        Member none = new Member("none", false);
        Member idle = new Member("idle", true);
        Member starving = new Member("starving", false);
        budget.join(none);
        budget.join(idle);
        budget.join(starving);

        budget.noRoom(starving);
        assertTrue(calls.contains("idle closes"), calls.toString());
        assertFalse(calls.contains("starving closes"), "never asks itself: " + calls);

        calls.clear();
        budget.wake();
        budget.wake();
        assertEquals(List.of("starving retries"), calls);
    }

    @Test
    void aMemberThatLeftIsNeitherAskedNorWoken() {
        ConnectionBudget budget = new ConnectionBudget("user u");
        Member idle = new Member("idle", true);
        Member starving = new Member("starving", false);
        budget.join(idle);
        budget.join(starving);
        budget.leave(idle);

        budget.noRoom(starving);
        budget.leave(starving);
        budget.wake();
        assertEquals(List.of(), calls);
    }

    @Test
    void aServerParkedIdleIsClosedOnlyForAMemberThatStillWantsRoom() {
        ConnectionBudget budget = new ConnectionBudget("database d");
        Member parking = new Member("parking", true);
        Member starving = new Member("starving", false);
        budget.join(parking);
        budget.join(starving);
        budget.noRoom(starving);
        calls.clear();

        starving.wantsRoom = false;
        budget.offerIdle(parking);
        assertEquals(List.of(), calls, "served meanwhile: nothing to close");

        budget.noRoom(starving);
        calls.clear();
        starving.wantsRoom = true;
        budget.offerIdle(parking);
        assertEquals(List.of("parking closes"), calls);
    }

    private final class Member implements ConnectionBudget.Member {
        private final String name;
        private final boolean hasIdle;
        private boolean wantsRoom = true;

        Member(String name, boolean hasIdle) {
            this.name = name;
            this.hasIdle = hasIdle;
        }

        @Override
        public boolean closeIdleServer() {
            if (hasIdle) {
                calls.add(name + " closes");
            }
            return hasIdle;
        }

        @Override
        public void retryWaiters() {
            calls.add(name + " retries");
        }

        @Override
        public boolean wantsRoom() {
            return wantsRoom;
        }
    }
}
