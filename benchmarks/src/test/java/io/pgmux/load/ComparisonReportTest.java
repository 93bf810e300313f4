package io.pgmux.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgmux.load.Services.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report: its estimate of how long the comparison it describes takes to reproduce, and how it shows the Netty
 * relay (from fake measurements).
 */
class ComparisonReportTest {
    private static final String FIXED_RATE_CASE = "select-only-16-at-" + BenchCase.FIXED_RATE;

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

    /**
     * The relay's figure joins the measured text of the three rows it ran in: its TPS over PgBouncer's, its CPU per
     * transaction at the fixed rate, its added latency.
     */
    @Test
    void theRelaysFiguresJoinTheMeasuredTextOfItsThreeCases() {
        String table = report(relayRun(9_400, 46.0, 0.0801)).targetsTable();
        assertTrue(table.contains("0.98× PgBouncer, 0.65× direct (Netty relay: 0.94× PgBouncer) |"), table);
        assertTrue(table.contains("pgmux 66.5 µs, PgBouncer 47.5 µs (Netty relay: 46.0 µs) |"), table);
        assertTrue(
                table.contains(
                        "pgmux +33.0 µs, PgBouncer +35.0 µs (p50 over direct 50.0 µs) (Netty relay: +30.1 µs) |"),
                table);
    }

    /** However good or bad the relay's figures, every result is what it would be without the relay. */
    @Test
    void theRelayNeverChangesAPassOrFail() {
        Map<BenchCase, List<Measurement>> without = withoutRelay(relayRun(0, 0, 0));
        String expected = report(without).targetsTable();
        for (Map<BenchCase, List<Measurement>> run :
                List.of(relayRun(1_000_000, 0.1, 0.0001), relayRun(1, 1_000, 10))) {
            String table = report(run).targetsTable();
            assertEquals(expected, table.replaceAll(" \\(Netty relay: [^)]*\\)", ""), table);
        }
        assertTrue(expected.contains("PASS") && expected.contains("FAIL"), expected);
    }

    /** The relay runs only with 16 clients or one, after the other targets; the idle crowd never meets it. */
    @Test
    void theRelayRunsLastInItsThreeCasesOnly() {
        for (BenchCase c : BenchCase.all(15_000)) {
            boolean floor = List.of("select-only-16", FIXED_RATE_CASE, "select1-latency")
                    .contains(c.name());
            assertEquals(floor, c.targets().contains(Target.RELAY), c.name());
            if (floor) {
                assertEquals(Target.RELAY, c.targets().get(c.targets().size() - 1), c.name());
                assertEquals(
                        List.of(Target.PGBOUNCER, Target.PGMUX),
                        c.targets().subList(c.targets().size() - 3, c.targets().size() - 1));
            }
        }
    }

    /** With --only cases that do without the relay, it is neither started, warmed up, nor written about. */
    @Test
    void aRunWithoutTheRelaysCasesNeverMentionsIt(@TempDir Path dir) throws Exception {
        ComparisonOptions options = ComparisonOptions.parse(new String[] {"--quick", "--only", "select-only-64"});
        assertEquals(BenchCase.ALL, Comparison.targets(options.cases()));
        Map<BenchCase, List<Measurement>> results = new LinkedHashMap<>();
        results.put(
                benchCase("select-only-64"),
                List.of(
                        run(Target.DIRECT, 14_000, 4.5, Double.NaN),
                        run(Target.PGBOUNCER, 11_000, 5.8, 38.3),
                        run(Target.PGMUX, 10_700, 6.0, 48.7)));
        ComparisonReport report =
                new ComparisonReport(new Comparison(options), null, results, List.of(), Instant.EPOCH, Instant.EPOCH);
        assertFalse(report.targetsTable().contains("relay"), report.targetsTable());
        assertEquals(ComparisonReport.HOW_TO_READ, report.howToRead());
        report.writeCharts(dir, "");
        assertFalse(Files.readString(dir.resolve("tps.svg")).contains("relay"));
        assertTrue(Files.readString(dir.resolve("tps.svg")).contains(">pgmux</text>"));
    }

    /** The relay is a fourth bar and legend entry, in a colour of its own, and its point joins "how to read". */
    @Test
    void aRunWithTheRelayChartsAndExplainsIt(@TempDir Path dir) throws Exception {
        ComparisonReport report = report(relayRun(9_400, 46.0, 0.0801));
        report.writeCharts(dir, "RESULTS-floor-");
        String svg = Files.readString(dir.resolve("RESULTS-floor-tps.svg"));
        assertTrue(svg.contains(">Netty relay</text>"), svg);
        assertTrue(svg.contains("<title>Netty relay select-only-16: 9400.0 tps</title>"), svg);
        assertTrue(svg.contains("fill=\"#e15759\"/>"), "the fourth colour in the legend: " + svg);
        assertTrue(Files.exists(dir.resolve("RESULTS-floor-latency.svg")));
        String howToRead = report.howToRead();
        assertTrue(howToRead.contains(ComparisonReport.RELAY_HOW_TO_READ), howToRead);
        assertTrue(howToRead.startsWith(ComparisonReport.HOW_TO_READ.stripTrailing()), howToRead);
        assertTrue(
                howToRead.endsWith("PASS or FAIL. It is warmed up with pgbench like the others, but\n"
                        + "  without the connection storm: it logs in to nothing itself.\n\n"),
                howToRead);
    }

    /** A second report next to RESULTS.md writes its charts under its own name. */
    @Test
    void chartsFollowTheReportsName() {
        assertEquals("", ComparisonReport.chartPrefix(Path.of("benchmarks/RESULTS.md")));
        assertEquals("RESULTS-floor-", ComparisonReport.chartPrefix(Path.of("benchmarks/RESULTS-floor.md")));
    }

    /** The relay's warm-up (pgbench only, no storm) counts only when a selected case uses it. */
    @Test
    void theRelaysWarmUpCountsOnlyWhenItRuns() {
        ComparisonOptions without = ComparisonOptions.parse(new String[] {"--quick", "--only", "select-only-64"});
        ComparisonOptions with = ComparisonOptions.parse(new String[] {"--quick", "--only", "select-only-16"});
        assertEquals(BenchCase.ALL_AND_RELAY, Comparison.targets(with.cases()));
        long relayWarmUp = Comparison.warmUpSeconds(with, Target.RELAY);
        assertTrue(relayWarmUp > 0 && relayWarmUp < Comparison.warmUpSeconds(with, Target.PGMUX), relayWarmUp + " s");
        assertTrue(
                ComparisonReport.estimateMinutes(with, 0, 0) > ComparisonReport.estimateMinutes(without, 0, 0),
                "one more target to warm up");
    }

    /**
     * The three relay cases measured: direct, PgBouncer and pgmux as in the 3 × 30 s run at 39af484, the relay with
     * the given TPS at 16 clients, CPU per transaction at the fixed rate and latency (ms) at one client.
     */
    private static Map<BenchCase, List<Measurement>> relayRun(double relayTps, double relayCpu, double relayLatency) {
        Map<BenchCase, List<Measurement>> results = new LinkedHashMap<>();
        List<Measurement> sixteen = new ArrayList<>();
        List<Measurement> fixed = new ArrayList<>();
        List<Measurement> latency = new ArrayList<>();
        for (int rep = 1; rep <= 3; rep++) {
            sixteen.add(run(Target.DIRECT, 15_000, 0.9, Double.NaN, rep));
            sixteen.add(run(Target.PGBOUNCER, 10_000, 1.5, 40.0, rep));
            sixteen.add(run(Target.PGMUX, 9_800, 1.6, 50.0, rep));
            sixteen.add(run(Target.RELAY, relayTps, 1.7, 45.0, rep));
            fixed.add(run(Target.PGBOUNCER, 5_000, 0.5, 47.5, rep));
            fixed.add(run(Target.PGMUX, 5_000, 0.6, 66.5, rep));
            fixed.add(run(Target.RELAY, 5_000, 0.6, relayCpu, rep));
            latency.add(run(Target.DIRECT, 18_000, 0.050, Double.NaN, rep));
            latency.add(run(Target.PGBOUNCER, 11_000, 0.085, 60.0, rep));
            latency.add(run(Target.PGMUX, 10_000, 0.083, 70.0, rep));
            latency.add(run(Target.RELAY, 12_000, relayLatency, 50.0, rep));
        }
        results.put(benchCase("select-only-16"), sixteen);
        results.put(benchCase(FIXED_RATE_CASE), fixed);
        results.put(benchCase("select1-latency"), latency);
        return results;
    }

    private static Map<BenchCase, List<Measurement>> withoutRelay(Map<BenchCase, List<Measurement>> results) {
        Map<BenchCase, List<Measurement>> without = new LinkedHashMap<>();
        results.forEach((c, runs) -> without.put(
                c, runs.stream().filter(m -> m.target() != Target.RELAY).toList()));
        return without;
    }

    private static ComparisonReport report(Map<BenchCase, List<Measurement>> results) {
        return new ComparisonReport(new Comparison(QUICK), null, results, List.of(), Instant.EPOCH, Instant.EPOCH);
    }

    private static BenchCase benchCase(String name) {
        return BenchCase.all(15_000).stream()
                .filter(c -> c.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    private static Measurement run(Target target, double tps, double latencyMillis, double cpu) {
        return run(target, tps, latencyMillis, cpu, 1);
    }

    private static Measurement run(Target target, double tps, double latencyMillis, double cpu, int rep) {
        return new Measurement(target, rep, tps, latencyMillis, Double.NaN, 0, "", cpu, Double.NaN, Double.NaN);
    }
}
