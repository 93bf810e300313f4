package io.pgmux.load;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/pgmux-bench compare} (benchmarks/compare.sh): starts PostgreSQL, PgBouncer and pgmux (and the
 * {@link ByteRelay} when a selected case uses it), runs every {@link BenchCase} against direct / PgBouncer / pgmux
 * (/ relay) alternating (A B C A B C ...) for a number of repetitions, profiles pgmux with JFR, and writes RESULTS.md
 * with raw numbers, medians, ratios and the targets.
 */
public final class Comparison {
    /** The login-path warm-up per target: about 100,000 logins at pgmux's rate on two cores. */
    private static final int STORM_WARMUP_SECONDS = 40;
    /** The pgbench protocols each target is warmed up in. */
    private static final List<String> WARMUP_MODES = List.of("simple", "extended", "prepared");

    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+)");
    private static final Pattern LATENCY = Pattern.compile("latency average = ([0-9.]+) ms");
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");
    private static final Pattern ABORTED = Pattern.compile("client \\d+ aborted");

    final ComparisonOptions options;
    private final Services services;
    private final Path work;
    /** The command line of each case's first run against each target, for RESULTS.md. */
    final Map<String, String> commands = new LinkedHashMap<>();
    /** The repository's commit when the run began (the jars were built from it just before). */
    String commit = "?";

    Comparison(ComparisonOptions options) {
        this.options = options;
        this.work = options.workDir();
        this.services = new Services(work);
    }

    public static void main(String[] args) throws Exception {
        ComparisonOptions options;
        try {
            options = ComparisonOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("pgmux-bench compare: " + e.getMessage());
            System.err.print(ComparisonOptions.USAGE);
            System.exit(2);
            return;
        }
        if (options == null) {
            System.out.print(ComparisonOptions.USAGE);
            return;
        }
        Comparison comparison = new Comparison(options);
        Thread cleanup = new Thread(comparison.services::close, "compare-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            comparison.run();
        } finally {
            comparison.services.close();
        }
        System.exit(0);
    }

    private void run() throws Exception {
        Instant started = Instant.now();
        commit = ComparisonReport.firstLine(
                List.of("git", "-C", options.repo().toString(), "describe", "--always", "--dirty"));
        log("work directory " + work + ", pgmux " + commit);
        List<BenchCase> cases = options.cases();
        List<Services.Target> targets = targets(cases);
        services.start(options.repo(), options.scale(), targets, this::log);
        warmUp(targets);
        Map<BenchCase, List<Measurement>> results = new LinkedHashMap<>();
        for (BenchCase c : cases) {
            List<Measurement> runs = new ArrayList<>();
            for (int rep = 1; rep <= options.reps(); rep++) {
                for (Services.Target target : c.targets()) {
                    Measurement m = runOnce(c, target, rep);
                    runs.add(m);
                    log(String.format(
                            Locale.ROOT,
                            "%-24s %-11s rep %d: %10.1f tps  latency %8.3f ms  errors %d  cpu %s µs/tx",
                            c.name(),
                            target.title,
                            rep,
                            m.tps(),
                            m.latencyMillis(),
                            m.errors(),
                            LoadResult.num(m.cpuMicrosPerTransaction())));
                }
            }
            results.put(c, runs);
        }
        List<String> profile = options.profile() ? Profiler.profile(this, services, work) : List.of();
        new ComparisonReport(this, services, results, profile, started, Instant.now()).write(options.out());
        log("wrote " + options.out());
    }

    /**
     * The targets to start and warm up: direct, PgBouncer and pgmux always (the warm-up of one warms PostgreSQL for
     * all), the relay only when one of {@code cases} runs against it.
     */
    static List<Services.Target> targets(List<BenchCase> cases) {
        List<Services.Target> targets = new ArrayList<>(BenchCase.ALL);
        if (cases.stream().anyMatch(c -> c.targets().contains(Services.Target.RELAY))) {
            targets.add(Services.Target.RELAY);
        }
        return targets;
    }

    /**
     * Load before the first measured run, so that no target is measured cold: pgmux's JIT compiles its hot path
     * (and its compiler threads' CPU would count as pgmux's), PostgreSQL fills its caches.
     */
    private void warmUp(List<Services.Target> targets) throws IOException, InterruptedException {
        int seconds = pgbenchWarmupSeconds(options);
        for (Services.Target target : targets) {
            for (String mode : WARMUP_MODES) {
                log("warming up " + target.title + " (pgbench -S -M " + mode + ", " + seconds + " s)");
                List<String> command = new ArrayList<>(List.of(services.pgbenchPath(), "-S", "-M", mode));
                command.addAll(List.of("-c", "16"));
                command.addAll(pgbenchTail(target, seconds, 2));
                services.run(command, work.resolve("warmup.log"), seconds + 30L);
            }
            if (!warmsUpLogins(target)) {
                continue;
            }
            // The login path: pgbench -C logs in only ~220 times a second (its own PBKDF2 per connection), a few
            // thousand logins in the time, while pgmux's JIT needs tens of thousands before the login path is
            // compiled. The harness's storm makes thousands a second.
            log("warming up " + target.title + " (harness connect-storm, 32 clients, " + STORM_WARMUP_SECONDS + " s)");
            harness(
                    BenchCase.harnessStorm(),
                    target,
                    0,
                    "warmup-storm-" + target.name().toLowerCase(Locale.ROOT),
                    services.pid(target),
                    STORM_WARMUP_SECONDS,
                    false);
        }
    }

    /**
     * Seconds of each pgbench warm-up: 20 even in a quick run, because on two busy cores pgmux's C2 compiler still
     * works through its queue for well over a minute of load, and its CPU would otherwise count in the first measured
     * runs.
     */
    private static int pgbenchWarmupSeconds(ComparisonOptions options) {
        return Math.max(20, Math.min(30, options.durationSeconds()));
    }

    /**
     * Whether {@link #warmUp} runs the harness storm against {@code target}: not against the relay, which logs in
     * to nothing itself and runs in no case that connects per transaction.
     */
    private static boolean warmsUpLogins(Services.Target target) {
        return target != Services.Target.RELAY;
    }

    /** How many runs {@link #warmUp} makes against {@code target}: pgbench in each mode, then the harness storm. */
    static int warmUpRuns(Services.Target target) {
        return WARMUP_MODES.size() + (warmsUpLogins(target) ? 1 : 0);
    }

    /**
     * The seconds of load of those runs; the harness storm warms up for {@code --warmup} first, as every harness run
     * does.
     */
    static long warmUpSeconds(ComparisonOptions options, Services.Target target) {
        return WARMUP_MODES.size() * (long) pgbenchWarmupSeconds(options)
                + (warmsUpLogins(target) ? STORM_WARMUP_SECONDS + options.warmupSeconds() : 0);
    }

    /** One run; a run that fails is a measurement with its errors, never an exception. */
    Measurement runOnce(BenchCase c, Services.Target target, int rep) throws IOException, InterruptedException {
        String label = c.name() + "-" + target.name().toLowerCase(Locale.ROOT) + "-" + rep;
        long pid = services.pid(target);
        if (c.pinned() && pid > 0) {
            pin(pid, "1");
        }
        try {
            return c.tool() == BenchCase.Tool.PGBENCH
                    ? pgbench(c, target, rep, label, pid)
                    : harness(c, target, rep, label, pid, options.durationSeconds(), true);
        } finally {
            if (c.pinned() && pid > 0) {
                pin(pid, "0-" + (Runtime.getRuntime().availableProcessors() - 1));
            }
        }
    }

    private Measurement pgbench(BenchCase c, Services.Target target, int rep, String label, long pid)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (c.pinned()) {
            command.addAll(List.of("taskset", "-c", "1"));
        }
        command.add(services.pgbenchPath());
        command.addAll(c.args());
        command.addAll(pgbenchTail(target, options.durationSeconds(), threads(c.args())));
        commands.putIfAbsent(c.name() + " / " + target.title, String.join(" ", command));
        Path log = work.resolve(label + ".log");
        TargetProbe probe = new TargetProbe(pid, null);
        long cpuBefore = probe.cpuNanos();
        // pgbench -T waits for answers that may never come (a stuck pool): give up 30 s after the end
        int status = services.run(command, log, options.durationSeconds() + 30L);
        long cpuAfter = probe.cpuNanos();
        String output = Files.readString(log)
                + (status == -1 ? "\nERROR: pgbench did not finish within 30 s of its duration; stopped" : "");
        double tps = status == -1 ? Double.NaN : find(TPS, output);
        long processed = (long) find(PROCESSED, output);
        long failed = Double.isNaN(find(FAILED, output)) ? 0 : (long) find(FAILED, output);
        long aborted = ABORTED.matcher(output).results().count();
        long errors = failed + aborted + (status != 0 && aborted == 0 ? 1 : 0);
        double cpu = cpuBefore < 0 || cpuAfter < 0 || processed <= 0
                ? Double.NaN
                : (cpuAfter - cpuBefore) / 1000.0 / processed;
        return new Measurement(
                target,
                rep,
                tps,
                find(LATENCY, output),
                Double.NaN,
                errors,
                errorLines(output),
                cpu,
                Double.NaN,
                Double.NaN);
    }

    /**
     * pgbench threads: 2, except one per client with {@code -M prepared}. pgbench prepares each statement with a
     * blocking PQprepare on first use, which stops every other client of that thread; when those hold all of a
     * pool's servers mid-transaction (64 clients, 20 servers, transaction mode), the prepare waits for a server that
     * only they can free, until query_wait_timeout. An application with a thread per connection does not do that.
     */
    static int threads(List<String> args) {
        int clients = args.indexOf("-c") >= 0 ? Integer.parseInt(args.get(args.indexOf("-c") + 1)) : 1;
        return args.contains("prepared") ? clients : 2;
    }

    /** What every pgbench run ends with: threads, no vacuum, duration, where to connect. */
    private List<String> pgbenchTail(Services.Target target, int seconds, int threads) {
        return List.of(
                "-j",
                Integer.toString(threads),
                "-n",
                "-T",
                Integer.toString(seconds),
                "-h",
                "127.0.0.1",
                "-p",
                Integer.toString(services.port(target)),
                "-U",
                Services.USER,
                Services.DATABASE);
    }

    /** A harness run; {@code recorded} puts its command in the report (warm-ups are not). */
    Measurement harness(
            BenchCase c, Services.Target target, int rep, String label, long pid, int seconds, boolean recorded)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (c.pinned()) {
            command.addAll(List.of("taskset", "-c", "1"));
        }
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                benchJar(),
                LoadHarness.class.getName()));
        command.addAll(c.args());
        command.addAll(List.of(
                "--host", "127.0.0.1",
                "--port", Integer.toString(services.port(target)),
                "--user", Services.USER,
                "--database", Services.DATABASE,
                "--duration", Integer.toString(seconds),
                "--warmup", Integer.toString(options.warmupSeconds()),
                "--scale", Integer.toString(options.scale()),
                "--label", label,
                "--out", work.resolve("harness").toString()));
        if (pid > 0) {
            command.addAll(List.of("--target-pid", Long.toString(pid)));
        }
        if (target == Services.Target.PGMUX) {
            command.addAll(List.of("--metrics-url", services.metricsUrl()));
        }
        if (recorded) {
            commands.putIfAbsent(c.name() + " / " + target.title, String.join(" ", command));
        }
        Path log = work.resolve(label + ".log");
        int status = services.run(command, log, seconds + options.warmupSeconds() + 300L);
        Path csv = work.resolve("harness").resolve(label + ".csv");
        if (!Files.exists(csv)) {
            return new Measurement(
                    target,
                    rep,
                    Double.NaN,
                    Double.NaN,
                    Double.NaN,
                    1,
                    "harness exited " + status + ", see " + log,
                    Double.NaN,
                    Double.NaN,
                    Double.NaN);
        }
        Map<String, String> row = LoadResult.readCsv(csv);
        double perIdle = target == Services.Target.PGMUX
                ? number(row.get("jvm_bytes_per_idle_client"))
                : number(row.get("rss_bytes_per_idle_client"));
        return new Measurement(
                target,
                rep,
                number(row.get("tps")),
                number(row.get("p50_us")) / 1000,
                number(row.get("p99_us")) / 1000,
                (long) number(row.get("errors")),
                row.get("errors_by_sqlstate"),
                number(row.get("target_cpu_us_per_tx")),
                perIdle,
                number(row.get("rss_bytes_per_idle_client")));
    }

    private void pin(long pid, String cpus) throws IOException, InterruptedException {
        services.run(List.of("taskset", "-a", "-p", "-c", cpus, Long.toString(pid)), work.resolve("taskset.log"), 30);
    }

    static String benchJar() {
        try {
            URI location = Comparison.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI();
            return Path.of(location).toString();
        } catch (Exception e) {
            throw new IllegalStateException("cannot find the pgmux-bench jar", e);
        }
    }

    private static double find(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    private static double number(String text) {
        return text == null || text.isEmpty() ? Double.NaN : Double.parseDouble(text);
    }

    /** The distinct ERROR/FATAL messages pgbench printed (at most three), without client numbers. */
    private static String errorLines(String output) {
        Set<String> lines = new LinkedHashSet<>();
        for (String line : output.split("\n")) {
            int at = Math.max(line.indexOf("ERROR:"), line.indexOf("FATAL:"));
            if (at >= 0 && lines.size() < 3) {
                lines.add(line.substring(at).trim());
            }
        }
        return String.join("; ", lines);
    }

    void log(String line) {
        System.err.println(
                DateTimeFormatter.ISO_LOCAL_TIME
                                .format(Instant.now().atOffset(ZoneOffset.UTC))
                                .substring(0, 8) + " compare: " + line);
    }
}
