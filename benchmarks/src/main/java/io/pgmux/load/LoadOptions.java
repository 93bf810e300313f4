package io.pgmux.load;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

/** The harness's command line; connection defaults come from libpq's PGHOST, PGPORT, PGUSER, ... variables. */
record LoadOptions(
        ClientSpec client,
        int clients,
        int idleClients,
        int connectRate,
        int durationSeconds,
        int warmupSeconds,
        int threads,
        boolean init,
        long targetPid,
        URI metricsUrl,
        String label,
        Path outDir) {

    static final String USAGE =
            """
            usage: pgmux-bench [options]
              --host H --port N --user U --password P --database D
                                     target (defaults: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, else
                                     127.0.0.1 5432 postgres "" and the user name)
              --workload W           select1 | select-only | tpcb-like | connect-storm   (select-only)
              --protocol P           simple | extended | prepared                      (simple)
              --clients N            active clients                                    (16)
              --idle N               idle clients logged in besides the active ones    (0)
              --connect-rate N       new connections per second while connecting, with
                                     at most 256 logins in flight                      (2000)
              --think-time-ms N      pause between a client's transactions             (0)
              --duration S           measured seconds; 0 runs nothing (with --init)    (10)
              --warmup S             seconds of load before measuring                  (2)
              --scale N              pgbench scale of the tables                       (1)
              --init                 (re)create and fill the pgbench tables first
              --threads N            event-loop threads                                (2)
              --target-pid PID       the process under test: its CPU and memory are reported
              --metrics-url URL      pgmux's /metrics: heap after GC and direct memory are reported
              --label NAME           names the result files                            (run)
              --out DIR              where LABEL.md, LABEL.csv and LABEL.svg go        (bench-results)
            """;

    static LoadOptions parse(String[] args, Map<String, String> env) {
        String host = env.getOrDefault("PGHOST", "127.0.0.1");
        int port = Integer.parseInt(env.getOrDefault("PGPORT", "5432"));
        String user = env.getOrDefault("PGUSER", "postgres");
        String password = env.getOrDefault("PGPASSWORD", "");
        String database = env.get("PGDATABASE");
        Workload workload = Workload.SELECT_ONLY;
        QueryProtocol protocol = QueryProtocol.SIMPLE;
        int clients = 16;
        int idle = 0;
        int connectRate = 2000;
        long thinkMicros = 0;
        int duration = 10;
        int warmup = 2;
        int scale = 1;
        boolean init = false;
        int threads = 2;
        long pid = 0;
        URI metrics = null;
        String label = "run";
        Path out = Path.of("bench-results");
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (option.equals("--init")) {
                init = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            String value = args[++i];
            switch (option) {
                case "--host" -> host = value;
                case "--port" -> port = positive(option, value);
                case "--user" -> user = value;
                case "--password" -> password = value;
                case "--database" -> database = value;
                case "--workload" -> workload = Workload.parse(value);
                case "--protocol" -> protocol = QueryProtocol.parse(value);
                case "--clients" -> clients = positive(option, value);
                case "--idle" -> idle = atLeastZero(option, value);
                case "--connect-rate" -> connectRate = positive(option, value);
                case "--think-time-ms" -> thinkMicros = atLeastZero(option, value) * 1000L;
                case "--duration" -> duration = atLeastZero(option, value);
                case "--warmup" -> warmup = atLeastZero(option, value);
                case "--scale" -> scale = positive(option, value);
                case "--threads" -> threads = positive(option, value);
                case "--target-pid" -> pid = positive(option, value);
                case "--metrics-url" -> metrics = URI.create(value);
                case "--label" -> label = value;
                case "--out" -> out = Path.of(value);
                default -> throw new IllegalArgumentException("unknown option " + option);
            }
        }
        ClientSpec spec = new ClientSpec(
                host, port, user, password, database == null ? user : database, workload, protocol, scale, thinkMicros);
        return new LoadOptions(
                spec, clients, idle, connectRate, duration, warmup, threads, init, pid, metrics, label, out);
    }

    private static int positive(String option, String value) {
        int n = atLeastZero(option, value);
        if (n == 0) {
            throw new IllegalArgumentException(option + " must be positive, got " + value);
        }
        return n;
    }

    private static int atLeastZero(String option, String value) {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a number, got \"" + value + "\"");
        }
        if (n < 0) {
            throw new IllegalArgumentException(option + " must not be negative, got " + value);
        }
        return n;
    }
}
