package io.pgmux.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/** RESULTS.md: set-up, the targets with PASS/FAIL, medians and every repetition, commands, charts, profile. */
final class ComparisonReport {
    /**
     * What a run costs beyond its load: starting pgbench or the harness's JVM, connecting, collecting its numbers.
     * Measured in the logs of the run of 0c8f724: about 0.2 s for pgbench, 1-2 s for the harness.
     */
    private static final int RUN_OVERHEAD_SECONDS = 2;

    private final Comparison comparison;
    private final Services services;
    private final Map<BenchCase, List<Measurement>> results;
    private final List<String> profile;
    private final Instant started;
    private final Instant finished;

    ComparisonReport(
            Comparison comparison,
            Services services,
            Map<BenchCase, List<Measurement>> results,
            List<String> profile,
            Instant started,
            Instant finished) {
        this.comparison = comparison;
        this.services = services;
        this.results = results;
        this.profile = profile;
        this.started = started;
        this.finished = finished;
    }

    /** What holds for every run of this comparison, whatever the numbers; {@link #howToRead} adds the relay. */
    static final String HOW_TO_READ =
            """
            ## How to read this

            - Everything shares one machine: PostgreSQL, the pooler and the load generator compete for the same
              cores, so a pooler that uses less CPU leaves more to PostgreSQL and the client. That is the cost the
              targets are about.
            - The pooler's CPU per transaction counts all of its threads: for pgmux that includes the JIT compiler
              and the garbage collector (every target is warmed up first with pgbench -S in all three protocols,
              then with 40 s of the harness's connection storm, so that pgmux's login path is compiled too).
            - At full load a pooler's CPU per transaction falls as its throughput rises (more work per wake-up), so
              the full-load rows compare poolers that did different amounts of work. The fixed-rate row
              (`pgbench -R`) holds both at the same transactions per second: its CPU per transaction compares like
              with like, and it is the CPU target that counts most.
            - PgBouncer is Debian's: 1.18 has no `max_prepared_statements` (1.21+), so named prepared statements in
              transaction mode (`pgbench -M prepared`) fail with it; the errors above show how.
            - Both poolers authenticate clients with SCRAM-SHA-256 against PostgreSQL's own verifier and log in to
              PostgreSQL with the client's proof (pass-through), as in production; neither runs PBKDF2 per login.
              pgbench (libpq) does, on the client side, for every connection of `-C`; the harness computes its
              client keys once per run so that it is not the bottleneck of an idle crowd.
            - Connection storms: `pgbench -C` runs those 4096 PBKDF2 rounds per login (about 8 ms per login per
              pgbench thread), so with -j 2 it makes some 220 logins/s whatever it connects to, and both poolers
              show the same. Its row stays in the tables as measured, but the storm target uses the harness's
              connect-storm case (each client: connect, SCRAM login, SELECT 1, Terminate, again), whose clients
              reuse their SCRAM keys: what limits it is the pooler's side of each login. In that row tps is logins
              per second and CPU µs/tx the pooler's CPU per login.
            - Direct PostgreSQL cannot hold the idle crowd (max_connections 200): those cells are n/a.

            """;

    /** The "how to read" point about the relay, for a run that has it. */
    static final String RELAY_HOW_TO_READ =
            """
            - The Netty relay (`io.pgmux.load.ByteRelay`, in benchmarks/) is not a pooler and has no targets: it pairs
              each client with its own PostgreSQL connection and copies bytes both ways, with no parsing, pool, login
              or metrics, on pgmux's Netty transport with as many event loops. It is the floor under any Netty proxy:
              what Netty and the kernel cost before a proxy does any work of its own. pgmux minus the relay is
              pgmux's own work (framing, pooling, session state, meters); the relay against PgBouncer is Netty's
              cost against PgBouncer's event loop in C. It runs only with 16 clients or one, where its PostgreSQL
              connection per client makes no more backends than a pooler's 20; its figures are context in the
              targets table and never change a PASS or FAIL. It is warmed up with pgbench like the others, but
              without the connection storm: it logs in to nothing itself.
            """;

    /** {@link #HOW_TO_READ}, with the relay's point when this run measured it. */
    String howToRead() {
        if (!hasRelay()) {
            return HOW_TO_READ;
        }
        int end = HOW_TO_READ.stripTrailing().length() + 1;
        return HOW_TO_READ.substring(0, end) + RELAY_HOW_TO_READ + HOW_TO_READ.substring(end);
    }

    /** Whether some case of this run ran against the relay. */
    private boolean hasRelay() {
        return !relayCases().isEmpty();
    }

    private List<String> relayCases() {
        return results.keySet().stream()
                .filter(c -> c.targets().contains(Services.Target.RELAY))
                .map(BenchCase::name)
                .toList();
    }

    void write(Path file) throws IOException, InterruptedException {
        ComparisonOptions o = comparison.options;
        StringBuilder md = new StringBuilder();
        md.append("# pgmux benchmark results\n\n");
        if (!o.note().isEmpty()) {
            md.append("**").append(o.note()).append("**\n\n");
        }
        md.append("Reproduce everything below with one command from the repository root (about ")
                .append(estimateMinutes(o, runs(BenchCase.Tool.PGBENCH), runs(BenchCase.Tool.HARNESS)))
                .append(" minutes with these settings):\n\n```\nbenchmarks/compare.sh")
                .append(o.reproduceArgs())
                .append("\n```\n\n");
        md.append("`benchmarks/compare.sh --help` lists the options; a full run is `benchmarks/compare.sh` (60 s"
                + " per run). It starts and stops everything itself (PostgreSQL from testkit, Debian's PgBouncer,"
                + " `bin/pgmux`), and a trap stops every process it started, also on failure or Ctrl-C.\n\n");
        md.append("## Set-up\n\n");
        md.append("| | |\n|---|---|\n");
        row(md, "date", started + " to " + finished + " (UTC)");
        row(md, "machine", machine());
        row(md, "PostgreSQL", services.postgresVersion());
        row(md, "PgBouncer", firstLine(List.of("pgbouncer", "--version")));
        row(md, "pgbench", firstLine(List.of(services.pgbenchPath(), "--version")));
        row(
                md,
                "pgmux",
                "commit " + comparison.commit + ", "
                        + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                        + ", default JVM options (`bin/pgmux`)");
        row(
                md,
                "poolers",
                "transaction mode, " + Services.POOL_SIZE + " server connections, SCRAM-SHA-256 with"
                        + " PostgreSQL's own verifier (pass-through to PostgreSQL), max client connections "
                        + Services.MAX_CLIENTS);
        if (hasRelay()) {
            row(
                    md,
                    "Netty relay",
                    "`io.pgmux.load.ByteRelay` from the same pgmux-bench.jar and JVM: one PostgreSQL connection per"
                            + " client, bytes copied both ways, nothing parsed; in " + String.join(", ", relayCases())
                            + " only");
        }
        row(
                md,
                "runs",
                o.reps() + " repetitions × " + o.durationSeconds() + " s per workload and target,"
                        + " alternating direct → PgBouncer → pgmux" + (hasRelay() ? " → Netty relay" : "")
                        + "; pgbench scale " + o.scale()
                        + ", -j 2 (-j = clients with -M prepared: pgbench's blocking PQprepare would stall a"
                        + " thread's other clients); harness warm-up "
                        + o.warmupSeconds() + " s");
        row(md, "load generator", "pgbench and `bin/pgmux-bench` on the same host; everything on loopback");
        md.append("\nMedians of the repetitions; ratios are pgmux's median over the other's median. Differences"
                + " under 10% are noise, more so on a shared machine.\n\n");

        md.append("## Targets\n\n");
        md.append(targetsTable());

        md.append("\n## Medians per workload\n\n");
        md.append("| workload | target | tps (median) | min..max | latency ms | p99 ms | errors | CPU µs/tx"
                + " | memory per idle client |\n|---|---|---|---|---|---|---|---|---|\n");
        for (Map.Entry<BenchCase, List<Measurement>> e : results.entrySet()) {
            for (Services.Target t : e.getKey().targets()) {
                List<Measurement> runs = of(e.getValue(), t);
                md.append(String.format(
                        Locale.ROOT,
                        "| %s | %s | %s | %s..%s | %s | %s | %d | %s | %s |%n",
                        e.getKey().title(),
                        t.title,
                        f0(Measurement.median(runs, Measurement::tps)),
                        f0(Measurement.min(runs, Measurement::tps)),
                        f0(Measurement.max(runs, Measurement::tps)),
                        f3(Measurement.median(runs, Measurement::latencyMillis)),
                        f3(Measurement.median(runs, Measurement::p99Millis)),
                        runs.stream().mapToLong(Measurement::errors).sum(),
                        f1(Measurement.median(runs, Measurement::cpuMicrosPerTransaction)),
                        bytes(Measurement.median(runs, Measurement::bytesPerIdleClient))));
            }
        }
        md.append("\nLatency is pgbench's average, or the harness's p50. CPU is the pooler process's user+system"
                + " time (/proc/PID/stat) over the run divided by its transactions (n/a for direct). Memory per idle"
                + " client: pgmux's heap after a full GC plus direct memory (`jcmd PID GC.run`, then /metrics), PgBouncer's"
                + " RSS growth, each divided by the idle clients.\n\n");
        String charts = chartPrefix(file);
        md.append("![throughput](charts/")
                .append(charts)
                .append("tps.svg)\n\n![latency](charts/")
                .append(charts)
                .append("latency.svg)\n\n");

        md.append("## Errors\n\n");
        boolean anyErrors = false;
        for (Map.Entry<BenchCase, List<Measurement>> e : results.entrySet()) {
            for (Measurement m : e.getValue()) {
                if (m.errors() > 0) {
                    anyErrors = true;
                    md.append(String.format(
                            "- %s, %s, rep %d: %d errors: %s%n",
                            e.getKey().title(),
                            m.target().title,
                            m.rep(),
                            m.errors(),
                            m.errorText() == null || m.errorText().isEmpty() ? "(see the run's log)" : m.errorText()));
                }
            }
        }
        if (!anyErrors) {
            md.append("None.\n");
        }

        md.append("\n## Every repetition\n\n| workload | target | rep | tps | latency ms | p99 ms | errors | CPU µs/tx"
                + " | memory per idle client |\n|---|---|---|---|---|---|---|---|---|\n");
        for (Map.Entry<BenchCase, List<Measurement>> e : results.entrySet()) {
            for (Measurement m : e.getValue()) {
                md.append(String.format(
                        Locale.ROOT,
                        "| %s | %s | %d | %s | %s | %s | %d | %s | %s |%n",
                        e.getKey().name(),
                        m.target().title,
                        m.rep(),
                        f0(m.tps()),
                        f3(m.latencyMillis()),
                        f3(m.p99Millis()),
                        m.errors(),
                        f1(m.cpuMicrosPerTransaction()),
                        bytes(m.bytesPerIdleClient())));
            }
        }

        md.append("\n## Commands\n\nThe first run of each workload and target (PGPASSWORD is set in the"
                        + " environment; ports are the ones of that run). Configs and raw logs of every run are in `")
                .append(o.repo().relativize(o.workDir()))
                .append("` (not committed).\n\n```\n");
        comparison.commands.forEach(
                (k, v) -> md.append("# ").append(k).append("\n").append(v).append("\n"));
        md.append("```\n\n");
        md.append(howToRead());
        md.append("## Where pgmux's CPU goes\n\n");
        if (profile.isEmpty()) {
            md.append("Not profiled in this run (--no-profile).\n");
        } else {
            profile.forEach(l -> md.append(l).append("\n"));
        }
        Files.writeString(file, md.toString());
        writeCharts(file.getParent().resolve("charts"), charts);
    }

    /**
     * The targets with PASS/FAIL. The relay's figures are added to the measured text of its cases and never enter a
     * result.
     */
    String targetsTable() {
        StringBuilder md = new StringBuilder("| workload | target | measured | result |\n|---|---|---|---|\n");
        ratioTarget(
                md,
                "select-only-16",
                "pgbench -S simple, 16 clients",
                1.15,
                runs -> relayNote(
                        runs,
                        x(ratio(runs, Services.Target.RELAY, Services.Target.PGBOUNCER, Measurement::tps))
                                + " PgBouncer"));
        ratioTarget(md, "select-only-64", "pgbench -S simple, 64 clients", 1.15);
        ratioTarget(md, "select-only-extended-64", "pgbench -S -M extended, 64 clients", 1.15);
        List<Measurement> prepared = runs("prepared-64");
        if (prepared != null) {
            double ratio = ratio(prepared, Services.Target.PGMUX, Services.Target.DIRECT, Measurement::tps);
            long errors = errors(prepared, Services.Target.PGMUX);
            result(
                    md,
                    "pgbench -M prepared, 64 clients",
                    "works; ≥ 0.85× direct",
                    errors + " errors, " + x(ratio) + " direct; PgBouncer: "
                            + errors(prepared, Services.Target.PGBOUNCER) + " errors, "
                            + x(ratio(prepared, Services.Target.PGBOUNCER, Services.Target.DIRECT, Measurement::tps))
                            + " direct",
                    errors == 0 && ratio >= 0.85);
        }
        ratioTarget(md, "tpcb-like-32", "tpcb-like, 32 clients", 1.1);
        List<Measurement> many = runs("select-only-256");
        if (many != null) {
            double ratio = ratio(many, Services.Target.PGMUX, Services.Target.PGBOUNCER, Measurement::tps);
            long errors = errors(many, Services.Target.PGMUX);
            result(
                    md,
                    "256 clients, max_connections 200",
                    "no errors; ≥ 1.15× PgBouncer",
                    errors + " errors, " + x(ratio) + " PgBouncer (direct: " + errors(many, Services.Target.DIRECT)
                            + " errors)",
                    errors == 0 && ratio >= 1.15);
        }
        List<Measurement> latency = runs("select1-latency");
        if (latency != null) {
            double direct = median(latency, Services.Target.DIRECT, Measurement::latencyMillis);
            double pgmux = median(latency, Services.Target.PGMUX, Measurement::latencyMillis) - direct;
            double bouncer = median(latency, Services.Target.PGBOUNCER, Measurement::latencyMillis) - direct;
            double relay = median(latency, Services.Target.RELAY, Measurement::latencyMillis) - direct;
            result(
                    md,
                    "added latency of SELECT 1, 1 client, pinned",
                    "≤ PgBouncer's",
                    String.format(
                                    Locale.ROOT,
                                    "pgmux +%.1f µs, PgBouncer +%.1f µs (p50 over direct %.1f µs)",
                                    pgmux * 1000,
                                    bouncer * 1000,
                                    direct * 1000)
                            + relayNote(latency, String.format(Locale.ROOT, "+%.1f µs", relay * 1000)),
                    pgmux <= bouncer);
        }
        // pgbench -C measures pgbench's own PBKDF2 (see HOW_TO_READ); the harness storm measures the poolers.
        ratioTarget(
                md,
                "harness-connect-storm-32",
                "connection storm (harness: connect, SCRAM login, SELECT 1), 32 clients",
                1.5,
                storm -> "; CPU per login pgmux "
                        + f1(median(storm, Services.Target.PGMUX, Measurement::cpuMicrosPerTransaction))
                        + " µs, PgBouncer "
                        + f1(median(storm, Services.Target.PGBOUNCER, Measurement::cpuMicrosPerTransaction))
                        + " µs");
        List<Measurement> crowd = runs("harness-idle-crowd");
        List<Measurement> plain = runs("harness-select-only-64");
        if (crowd != null && plain != null) {
            double with = median(crowd, Services.Target.PGMUX, Measurement::tps);
            double without = median(plain, Services.Target.PGMUX, Measurement::tps);
            double perIdle = median(crowd, Services.Target.PGMUX, Measurement::bytesPerIdleClient);
            result(
                    md,
                    comparison.options.idleClients() + " idle + 64 active",
                    "active TPS within 5% of no idle crowd; ≤ 2 kB per idle client",
                    String.format(
                            Locale.ROOT,
                            "%s of the TPS without the crowd; %s per idle client (PgBouncer: %s of its TPS, %s RSS"
                                    + " per idle client; direct: n/a)",
                            x(with / without),
                            bytes(perIdle),
                            x(median(crowd, Services.Target.PGBOUNCER, Measurement::tps)
                                    / median(plain, Services.Target.PGBOUNCER, Measurement::tps)),
                            bytes(median(crowd, Services.Target.PGBOUNCER, Measurement::bytesPerIdleClient))),
                    with >= 0.95 * without && perIdle <= 2048);
        }
        for (String name :
                List.of("select-only-64", "harness-select-only-64", "select-only-16-at-" + BenchCase.FIXED_RATE)) {
            List<Measurement> runs = runs(name);
            if (runs != null) {
                double pgmux = median(runs, Services.Target.PGMUX, Measurement::cpuMicrosPerTransaction);
                double bouncer = median(runs, Services.Target.PGBOUNCER, Measurement::cpuMicrosPerTransaction);
                result(
                        md,
                        "pooler CPU per select-only transaction (" + name + ")",
                        "≤ PgBouncer's",
                        String.format(Locale.ROOT, "pgmux %s µs, PgBouncer %s µs", f1(pgmux), f1(bouncer))
                                + relayNote(
                                        runs,
                                        f1(median(runs, Services.Target.RELAY, Measurement::cpuMicrosPerTransaction))
                                                + " µs"),
                        pgmux <= bouncer);
            }
        }
        return md.toString();
    }

    /** " (Netty relay: {@code figure})" for a case that ran against the relay, "" for one that did not. */
    private static String relayNote(List<Measurement> runs, String figure) {
        return of(runs, Services.Target.RELAY).isEmpty() ? "" : " (Netty relay: " + figure + ")";
    }

    private void ratioTarget(StringBuilder md, String name, String title, double needed) {
        ratioTarget(md, name, title, needed, runs -> "");
    }

    /** A "≥ needed× PgBouncer" target; {@code more} adds to what the row says was measured. */
    private void ratioTarget(
            StringBuilder md, String name, String title, double needed, Function<List<Measurement>, String> more) {
        List<Measurement> runs = runs(name);
        if (runs == null) {
            return;
        }
        double ratio = ratio(runs, Services.Target.PGMUX, Services.Target.PGBOUNCER, Measurement::tps);
        long errors = errors(runs, Services.Target.PGMUX);
        result(
                md,
                title,
                String.format(Locale.ROOT, "≥ %.2f× PgBouncer", needed),
                x(ratio) + " PgBouncer, "
                        + x(ratio(runs, Services.Target.PGMUX, Services.Target.DIRECT, Measurement::tps)) + " direct"
                        + (errors > 0 ? ", " + errors + " errors" : "")
                        + more.apply(runs),
                ratio >= needed && errors == 0);
    }

    private static void result(StringBuilder md, String workload, String target, String measured, boolean pass) {
        md.append("| ")
                .append(workload)
                .append(" | ")
                .append(target)
                .append(" | ")
                .append(measured)
                .append(" | ")
                .append(pass ? "PASS" : "FAIL")
                .append(" |\n");
    }

    private List<Measurement> runs(String name) {
        return results.entrySet().stream()
                .filter(e -> e.getKey().name().equals(name))
                .map(Map.Entry::getValue)
                .findFirst()
                .orElse(null);
    }

    private static List<Measurement> of(List<Measurement> runs, Services.Target target) {
        return runs.stream().filter(m -> m.target() == target).toList();
    }

    private static double median(List<Measurement> runs, Services.Target t, ToDoubleFunction<Measurement> field) {
        return Measurement.median(of(runs, t), field);
    }

    private static double ratio(
            List<Measurement> runs, Services.Target a, Services.Target b, ToDoubleFunction<Measurement> field) {
        return median(runs, a, field) / median(runs, b, field);
    }

    private static long errors(List<Measurement> runs, Services.Target t) {
        return of(runs, t).stream().mapToLong(Measurement::errors).sum();
    }

    /**
     * The start of the chart files' names: none for RESULTS.md, the report's name otherwise ({@code --out
     * benchmarks/RESULTS-floor.md} writes charts/RESULTS-floor-tps.svg), so that a second report next to RESULTS.md
     * does not overwrite its charts.
     */
    static String chartPrefix(Path report) {
        String name = report.getFileName().toString().replaceFirst("\\.md$", "");
        return name.equals("RESULTS") ? "" : name + "-";
    }

    /** The throughput and latency charts: one bar per target this run measured, in the order of the runs. */
    void writeCharts(Path dir, String prefix) throws IOException {
        List<String> names = new ArrayList<>();
        List<BenchCase> cases = new ArrayList<>(results.keySet());
        cases.forEach(c -> names.add(c.name().replace("harness-", "h-")));
        List<Services.Target> targets = Arrays.stream(Services.Target.values())
                .filter(t -> cases.stream().anyMatch(c -> c.targets().contains(t)))
                .toList();
        List<String> series = targets.stream().map(t -> t.title).toList();
        double[][] tps = new double[targets.size()][cases.size()];
        double[][] latency = new double[targets.size()][cases.size()];
        for (int s = 0; s < targets.size(); s++) {
            Services.Target t = targets.get(s);
            for (int c = 0; c < cases.size(); c++) {
                List<Measurement> runs = of(results.get(cases.get(c)), t);
                tps[s][c] = Measurement.median(runs, Measurement::tps);
                latency[s][c] = Measurement.median(runs, Measurement::latencyMillis);
            }
        }
        Files.createDirectories(dir);
        Files.writeString(
                dir.resolve(prefix + "tps.svg"), SvgChart.bars("Throughput (median)", "tps", names, series, tps));
        Files.writeString(
                dir.resolve(prefix + "latency.svg"),
                SvgChart.bars("Latency (pgbench average / harness p50, median)", "ms", names, series, latency));
    }

    /** How many measured runs used {@code tool}. */
    private long runs(BenchCase.Tool tool) {
        return results.entrySet().stream()
                .filter(e -> e.getKey().tool() == tool)
                .mapToLong(e -> e.getValue().size())
                .sum();
    }

    /**
     * About how long a comparison with {@code options} takes: the warm-up of every target (pgbench in three protocols
     * and, but for the relay, the harness's storm), then the measured runs, a harness run with its own warm-up first; two minutes on top
     * for building, starting the services and the profile.
     */
    static long estimateMinutes(ComparisonOptions options, long pgbenchRuns, long harnessRuns) {
        long warmUp = 0;
        for (Services.Target target : Comparison.targets(options.cases())) {
            warmUp += Comparison.warmUpSeconds(options, target)
                    + Comparison.warmUpRuns(target) * (long) RUN_OVERHEAD_SECONDS;
        }
        long measured = pgbenchRuns * (options.durationSeconds() + RUN_OVERHEAD_SECONDS)
                + harnessRuns * (options.durationSeconds() + options.warmupSeconds() + RUN_OVERHEAD_SECONDS);
        return (warmUp + measured) / 60 + 2;
    }

    private static void row(StringBuilder md, String name, String value) {
        md.append("| ").append(name).append(" | ").append(value).append(" |\n");
    }

    private static String machine() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst()
                    .orElse("?");
        } catch (IOException e) {
            // leave "?"
        }
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), Linux "
                + firstLine(List.of("uname", "-r")) + ", " + memory();
    }

    private static String memory() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream()
                    .filter(l -> l.startsWith("MemTotal"))
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024 / 1024 + " GiB RAM")
                    .findFirst()
                    .orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    static String firstLine(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return out.lines().findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    private static String x(double ratio) {
        return Double.isNaN(ratio) || Double.isInfinite(ratio) ? "n/a" : String.format(Locale.ROOT, "%.2f×", ratio);
    }

    private static String f0(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String f1(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String f3(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String bytes(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.0f B", v);
    }
}
