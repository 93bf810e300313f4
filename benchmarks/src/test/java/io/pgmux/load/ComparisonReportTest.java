package io.pgmux.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The report's estimate of how long the comparison it describes takes to reproduce. */
class ComparisonReportTest {
    private static final ComparisonOptions QUICK = ComparisonOptions.parse(new String[] {"--quick"});
    private static final ComparisonOptions FULL = ComparisonOptions.parse(new String[] {});

    /**
     * Before any measured run, every one of the three targets is warmed up with pgbench in three protocols (20 s each
     * even in a quick run) and 40 s of the harness's connection storm: 5 minutes of load, plus 2 for start-up.
     */
    @Test
    void theWarmUpOfEveryTargetCountsEvenWithoutMeasuredRuns() {
        long minutes = ComparisonReport.estimateMinutes(QUICK, 0, 0);
        assertTrue(minutes >= 5 + 2, minutes + " minutes");
    }

    /** A pgbench run adds its duration; a harness run also its own warm-up (5 s in a full run); each 2 s of start. */
    @Test
    void measuredRunsAddTheirDurationAndTheHarnessItsWarmUp() {
        long base = ComparisonReport.estimateMinutes(FULL, 0, 0);
        assertEquals(62, ComparisonReport.estimateMinutes(FULL, 60, 0) - base, "60 pgbench runs of 62 s");
        assertEquals(67, ComparisonReport.estimateMinutes(FULL, 0, 60) - base, "60 harness runs of 67 s");
    }

    /**
     * The quick run of four cases at 0c8f724 (27 pgbench runs, 9 harness runs, no profile; RESULTS-session4-subset.md)
     * took 12 minutes from the start of the services to the report, and the build comes before that.
     */
    @Test
    void aMeasuredQuickRunIsEstimatedWithinAFewMinutes() {
        long minutes = ComparisonReport.estimateMinutes(QUICK, 27, 9);
        assertTrue(minutes >= 12 && minutes <= 16, minutes + " minutes");
    }

    /** The command in the report reproduces the run: a subset, a smaller crowd and a skipped profile are named. */
    @Test
    void theReproduceCommandNamesEveryOptionThatChangesTheRun() {
        assertEquals(" --quick", QUICK.reproduceArgs());
        assertEquals("", FULL.reproduceArgs());
        ComparisonOptions subset = ComparisonOptions.parse(new String[] {
            "--quick", "--only", "select-only-16,harness-connect-storm-32", "--no-profile", "--idle", "5000"
        });
        assertEquals(
                " --quick --idle 5000 --only select-only-16,harness-connect-storm-32 --no-profile",
                subset.reproduceArgs());
        assertEquals(
                " --duration 30 --reps 5 --scale 1",
                ComparisonOptions.parse(new String[] {"--duration", "30", "--reps", "5", "--scale", "1"})
                        .reproduceArgs());
    }
}
