package io.pgmux.load;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** The comparison's command line. */
record ComparisonOptions(
        int durationSeconds,
        int warmupSeconds,
        int reps,
        int idleClients,
        int scale,
        List<String> only,
        boolean profile,
        String note,
        Path repo,
        Path out,
        Path workDir) {

    static final String USAGE =
            """
            usage: bin/pgmux-bench compare [options]      (or benchmarks/compare.sh [options])
              --quick            3 repetitions of 10 s per workload and target (a preliminary run)
              --duration S       seconds per run                                  (60)
              --reps N           repetitions, alternating direct / PgBouncer / pgmux (3)
                                 (/ Netty relay, a bare byte relay with one PostgreSQL connection per
                                 client, in select-only-16, select-only-16-at-5000, select1-latency)
              --idle N           idle clients of the idle-crowd case                (15000)
              --scale N          pgbench scale                                      (10)
              --only A,B         only these cases (names as in RESULTS.md)
              --no-profile       skip the JFR profile of pgmux
              --note TEXT        a line for the top of RESULTS.md (e.g. "Preliminary: busy machine")
              --out FILE         the report                                         (benchmarks/RESULTS.md)
              --work DIR         raw logs, configs and harness results  (benchmarks/results/<timestamp>)
            Run from the repository root; needs pgbench (testkit's), pgbouncer, taskset, jcmd, jfr.
            """;

    /** The options, or null when help was asked for. */
    static ComparisonOptions parse(String[] args) {
        int duration = 60;
        int reps = 3;
        int idle = 15_000;
        int scale = 10;
        List<String> only = List.of();
        boolean profile = true;
        String note = "";
        Path repo = Path.of("").toAbsolutePath();
        Path out = repo.resolve("benchmarks/RESULTS.md");
        Path work = null;
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            switch (option) {
                case "--help", "-h" -> {
                    return null;
                }
                case "--quick" -> {
                    duration = 10;
                    reps = 3;
                }
                case "--no-profile" -> profile = false;
                default -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(option + " needs a value");
                    }
                    String value = args[++i];
                    switch (option) {
                        case "--duration" -> duration = positive(option, value);
                        case "--reps" -> reps = positive(option, value);
                        case "--idle" -> idle = positive(option, value);
                        case "--scale" -> scale = positive(option, value);
                        case "--only" -> only = List.of(value.split(","));
                        case "--note" -> note = value;
                        case "--out" -> out = Path.of(value).toAbsolutePath();
                        case "--work" -> work = Path.of(value).toAbsolutePath();
                        default -> throw new IllegalArgumentException("unknown option " + option);
                    }
                }
            }
        }
        if (work == null) {
            work = repo.resolve("benchmarks/results")
                    .resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        int warmup = Math.max(1, Math.min(5, duration / 5));
        return new ComparisonOptions(duration, warmup, reps, idle, scale, only, profile, note, repo, out, work);
    }

    /** The cases to run: every case, or those {@code --only} names, in the order of the targets table. */
    List<BenchCase> cases() {
        return BenchCase.all(idleClients).stream()
                .filter(c -> only.isEmpty() || only.contains(c.name()))
                .toList();
    }

    /**
     * The options of {@code benchmarks/compare.sh} that reproduce these settings: what differs from a full run's
     * defaults, so that a report of a subset or of a smaller idle crowd names the command that made it. The output and
     * work paths are left out (they say where, not what).
     */
    String reproduceArgs() {
        StringBuilder args = new StringBuilder();
        if (durationSeconds == 10 && reps == 3) {
            args.append(" --quick");
        } else {
            if (durationSeconds != 60) {
                args.append(" --duration ").append(durationSeconds);
            }
            if (reps != 3) {
                args.append(" --reps ").append(reps);
            }
        }
        if (idleClients != 15_000) {
            args.append(" --idle ").append(idleClients);
        }
        if (scale != 10) {
            args.append(" --scale ").append(scale);
        }
        if (!only.isEmpty()) {
            args.append(" --only ").append(String.join(",", only));
        }
        if (!profile) {
            args.append(" --no-profile");
        }
        return args.toString();
    }

    private static int positive(String option, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException(option + " needs a positive number, got \"" + value + "\"");
    }
}
