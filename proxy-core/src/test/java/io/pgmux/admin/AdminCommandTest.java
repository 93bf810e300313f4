package io.pgmux.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The transaction commands the console accepts, and the look-alikes it refuses. */
class AdminCommandTest {
    @Test
    void transactionCommandsAreRecognisedInPostgresqlsSpellings() {
        for (String begin : new String[] {"BEGIN", "begin;", "BEGIN WORK", "BEGIN READ ONLY", "begin transaction"}) {
            assertEquals(Optional.of(new AdminCommand.Begin()), AdminCommand.parse(begin), begin);
        }
        for (String commit : new String[] {"COMMIT", "commit work", "END", "end transaction;"}) {
            assertEquals(Optional.of(new AdminCommand.Commit()), AdminCommand.parse(commit), commit);
        }
        for (String rollback : new String[] {"ROLLBACK", "rollback transaction", "ABORT", "abort work"}) {
            assertEquals(Optional.of(new AdminCommand.Rollback()), AdminCommand.parse(rollback), rollback);
        }
    }

    @Test
    void savepointsChainsAndLookAlikesAreNotTransactionCommands() {
        for (String other : new String[] {
            "ROLLBACK TO SAVEPOINT a", "COMMIT AND CHAIN", "BEGINNING", "ENDLESS", "COMMIT PREPARED 'x'"
        }) {
            assertEquals(Optional.empty(), AdminCommand.parse(other), other);
        }
    }
}
