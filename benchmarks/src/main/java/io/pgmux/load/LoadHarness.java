package io.pgmux.load;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.pgmux.Transport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * {@code pgmux-bench}: drives many PostgreSQL clients from one process (Netty, pgmux's protocol module) against
 * pgmux, PgBouncer or PostgreSQL, and reports throughput, latency percentiles, errors by SQLSTATE and the target's
 * CPU and memory. Phases: connect the active clients (they start working at once), warm up, take the target's
 * memory, connect the idle crowd, take its memory again, measure, stop. Exit status: 0 when the run had no errors,
 * 1 when it had some, 2 for a bad command line.
 */
public final class LoadHarness {
    private final LoadOptions options;
    private final PrintStream out;
    /** The measured window of the last run, for the result files. */
    private Timeline timeline;

    LoadHarness(LoadOptions options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.print(LoadOptions.USAGE);
            return;
        }
        LoadOptions options;
        try {
            options = LoadOptions.parse(args, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("pgmux-bench: " + e.getMessage());
            System.err.print(LoadOptions.USAGE);
            System.exit(2);
            return;
        }
        LoadResult result = new LoadHarness(options, System.err).run();
        System.exit(result != null && result.errors() == 0 ? 0 : 1);
    }

    /** Runs the whole thing and writes the result files; null when only --init was asked for. */
    LoadResult run() throws IOException, InterruptedException {
        Transport transport = Transport.best();
        EventLoopGroup group = transport.newGroup(options.threads(), new DefaultThreadFactory("bench", true));
        try {
            if (options.init() && !initialise(group, transport)) {
                throw new IOException("initialising the pgbench tables failed; see the errors above");
            }
            if (options.durationSeconds() == 0) {
                return null;
            }
            LoadResult result = measure(group, transport);
            write(result);
            return result;
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
    }

    private boolean initialise(EventLoopGroup group, Transport transport) throws InterruptedException {
        ClientSpec spec = options.client();
        ClientSpec simple = new ClientSpec(
                spec.host(),
                spec.port(),
                spec.user(),
                spec.password(),
                spec.database(),
                spec.workload(),
                QueryProtocol.SIMPLE,
                spec.scale(),
                0);
        LoadStats stats = new LoadStats();
        Fleet fleet = new Fleet(group, transport, simple, stats);
        out.printf("pgmux-bench: creating the pgbench tables, scale %d%n", spec.scale());
        boolean ok = fleet.runScript(PgbenchTables.script(spec.scale()), 600);
        if (!ok || stats.errorCount() > 0) {
            out.println("pgmux-bench: set-up errors " + stats.errors());
            return false;
        }
        return true;
    }

    private LoadResult measure(EventLoopGroup group, Transport transport) throws InterruptedException {
        ClientSpec spec = options.client();
        boolean storm = spec.workload() == Workload.CONNECT_STORM;
        LoadStats stats = new LoadStats();
        Fleet fleet = new Fleet(group, transport, spec, stats);
        TargetProbe target = new TargetProbe(options.targetPid(), options.metricsUrl());
        long connectTimeout = 30 + 3L * (options.clients() + options.idleClients()) / options.connectRate();
        try {
            out.printf(
                    "pgmux-bench: %s %s, %d clients%s against %s:%d/%s%n",
                    spec.workload().label(),
                    spec.protocol().label(),
                    options.clients(),
                    options.idleClients() > 0 ? " + " + options.idleClients() + " idle" : "",
                    spec.host(),
                    spec.port(),
                    spec.database());
            fleet.open(
                    storm ? ClientConnection.Role.STORM : ClientConnection.Role.ACTIVE,
                    options.clients(),
                    options.connectRate(),
                    connectTimeout);
            progress(stats, fleet, "warmup", options.warmupSeconds(), null);
            TargetProbe.MemorySample before = target.memory();
            if (options.idleClients() > 0) {
                out.printf("pgmux-bench: connecting %d idle clients%n", options.idleClients());
                fleet.open(ClientConnection.Role.IDLE, options.idleClients(), options.connectRate(), connectTimeout);
                // the crowd's logins are not part of the measured window
                stats.loginInterval();
            }
            TargetProbe.MemorySample after = options.idleClients() > 0 ? target.memory() : before;
            Timeline timeline = new Timeline();
            stats.transactionInterval();
            stats.loginInterval();
            long cpuStart = target.cpuNanos();
            long start = System.nanoTime();
            progress(stats, fleet, "measure", options.durationSeconds(), timeline);
            double seconds = (System.nanoTime() - start) / 1e9;
            long cpuEnd = target.cpuNanos();
            Histogram latency = timeline.transactions;
            Histogram logins = timeline.logins;
            Map<String, Long> errors = stats.errors();
            long count = latency.getTotalCount();
            double cpuPerTx =
                    cpuStart < 0 || cpuEnd < 0 || count == 0 ? Double.NaN : (cpuEnd - cpuStart) / 1000.0 / count;
            int idle = options.idleClients();
            LoadResult result = new LoadResult(
                    options.label(),
                    spec.workload().label(),
                    spec.protocol().label(),
                    options.clients(),
                    idle,
                    seconds,
                    count,
                    count / seconds,
                    count == 0 ? Double.NaN : latency.getMean() / 1000,
                    micros(latency, 50),
                    micros(latency, 99),
                    micros(latency, 99.9),
                    count == 0 ? Double.NaN : latency.getMaxValue() / 1000.0,
                    logins.getTotalCount(),
                    logins.getTotalCount() / seconds,
                    micros(logins, 99),
                    errors.values().stream().mapToLong(Long::longValue).sum(),
                    LoadResult.formatErrors(errors),
                    cpuPerTx,
                    after.rssBytes(),
                    after.jvmBytes(),
                    perIdle(before.jvmBytes(), after.jvmBytes(), idle),
                    perIdle(before.rssBytes(), after.rssBytes(), idle));
            this.timeline = timeline;
            return result;
        } finally {
            fleet.stop(30);
        }
    }

    private static double micros(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
    }

    private static double perIdle(long before, long after, int idle) {
        return idle == 0 || before < 0 || after < 0 ? Double.NaN : (double) (after - before) / idle;
    }

    /** Runs for {@code seconds}, printing a line a second; adds each second to {@code timeline} when given. */
    private void progress(LoadStats stats, Fleet fleet, String phase, int seconds, Timeline timeline)
            throws InterruptedException {
        long start = System.nanoTime();
        for (int s = 1; s <= seconds; s++) {
            long due = start + TimeUnit.SECONDS.toNanos(s);
            TimeUnit.NANOSECONDS.sleep(Math.max(0, due - System.nanoTime()));
            Histogram second = stats.transactionInterval();
            Histogram logins = stats.loginInterval();
            if (timeline != null) {
                timeline.add(second, logins);
            }
            out.printf(
                    Locale.ROOT,
                    "[%4ds] %-7s tps %9d  p50 %8.3f ms  p99 %8.3f ms  logins/s %6d  errors %5d  clients %6d%n",
                    s,
                    phase,
                    second.getTotalCount(),
                    second.getValueAtPercentile(50) / 1e6,
                    second.getValueAtPercentile(99) / 1e6,
                    logins.getTotalCount(),
                    stats.errorCount(),
                    stats.connectedClients());
        }
    }

    /** The measured window, second by second. */
    private static final class Timeline {
        final Histogram transactions = new Histogram(LoadStats.HIGHEST_NANOS, 3);
        final Histogram logins = new Histogram(LoadStats.HIGHEST_NANOS, 3);
        final List<double[]> seconds = new ArrayList<>();

        void add(Histogram second, Histogram loginSecond) {
            transactions.add(second);
            logins.add(loginSecond);
            seconds.add(new double[] {
                second.getTotalCount(), second.getValueAtPercentile(50) / 1e3, second.getValueAtPercentile(99) / 1e3
            });
        }
    }

    private void write(LoadResult r) throws IOException {
        Path dir = options.outDir();
        Files.createDirectories(dir);
        r.writeCsv(dir.resolve(r.label() + ".csv"));
        Files.writeString(dir.resolve(r.label() + ".md"), markdown(r));
        int n = timeline.seconds.size();
        double[][] tps = new double[1][n];
        double[][] latency = new double[2][n];
        for (int i = 0; i < n; i++) {
            tps[0][i] = timeline.seconds.get(i)[0];
            latency[0][i] = timeline.seconds.get(i)[1];
            latency[1][i] = timeline.seconds.get(i)[2];
        }
        String svg = SvgChart.lines(r.label() + ": transactions per second", "tps", List.of("tps"), tps);
        String latencySvg = SvgChart.lines(r.label() + ": latency per second", "µs", List.of("p50", "p99"), latency);
        Files.writeString(dir.resolve(r.label() + ".svg"), svg);
        Files.writeString(dir.resolve(r.label() + "-latency.svg"), latencySvg);
        out.printf(
                Locale.ROOT,
                "pgmux-bench: %s: %.0f tps, p50 %.0f µs, p99 %.0f µs, p99.9 %.0f µs, max %.0f µs, %d errors%s -> %s%n",
                r.label(),
                r.tps(),
                r.p50Micros(),
                r.p99Micros(),
                r.p999Micros(),
                r.maxMicros(),
                r.errors(),
                r.errors() == 0 ? "" : " (" + r.errorsBySqlState() + ")",
                dir.resolve(r.label() + ".md"));
    }

    private String markdown(LoadResult r) {
        StringBuilder md = new StringBuilder();
        md.append("# pgmux-bench: ").append(r.label()).append("\n\n");
        md.append(String.format(
                Locale.ROOT,
                "%s, %s protocol, %d clients, %d idle clients, %.1f s measured against %s:%d.%n%n",
                r.workload(),
                r.protocol(),
                r.clients(),
                r.idleClients(),
                r.seconds(),
                options.client().host(),
                options.client().port()));
        md.append("| measure | value |\n|---|---|\n");
        List<String> names = LoadResult.COLUMNS;
        List<String> values = r.values();
        for (int i = 0; i < names.size(); i++) {
            md.append("| ")
                    .append(names.get(i))
                    .append(" | ")
                    .append(values.get(i))
                    .append(" |\n");
        }
        md.append("\n## Per second\n\n| second | tps | p50 µs | p99 µs |\n|---|---|---|---|\n");
        for (int i = 0; i < timeline.seconds.size(); i++) {
            double[] s = timeline.seconds.get(i);
            md.append(String.format(Locale.ROOT, "| %d | %.0f | %.0f | %.0f |%n", i + 1, s[0], s[1], s[2]));
        }
        md.append("\n![tps](")
                .append(r.label())
                .append(".svg) ![latency](")
                .append(r.label())
                .append("-latency.svg)\n");
        return md.toString();
    }
}
