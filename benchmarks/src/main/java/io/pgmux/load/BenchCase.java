package io.pgmux.load;

import java.util.List;

/**
 * One row of the comparison: a pgbench or harness command run against each target in turn.
 *
 * @param name short id, also the prefix of its raw output files
 * @param title what the row says in RESULTS.md
 * @param tool which program runs it
 * @param args its arguments (host, port, user, duration and output are added per run)
 * @param targets which targets it runs against, in this order (direct PostgreSQL cannot hold an idle crowd; the
 *     relay only where one PostgreSQL connection per client is the same regime as a pooler's 20)
 * @param pinned run the load generator, and the pooler, on core 1 only
 */
record BenchCase(
        String name, String title, Tool tool, List<String> args, List<Services.Target> targets, boolean pinned) {
    enum Tool {
        PGBENCH,
        HARNESS
    }

    static final List<Services.Target> ALL =
            List.of(Services.Target.DIRECT, Services.Target.PGBOUNCER, Services.Target.PGMUX);
    static final List<Services.Target> POOLERS = List.of(Services.Target.PGBOUNCER, Services.Target.PGMUX);

    /**
     * With the {@link ByteRelay} last: 16 clients or fewer, so that its one PostgreSQL connection per client is no
     * more than a pooler's 20. With 64 clients or more it would run 64 backends against the poolers' 20, and it has
     * no idle crowd or logins of its own to measure.
     */
    static final List<Services.Target> ALL_AND_RELAY =
            List.of(Services.Target.DIRECT, Services.Target.PGBOUNCER, Services.Target.PGMUX, Services.Target.RELAY);

    static final List<Services.Target> POOLERS_AND_RELAY =
            List.of(Services.Target.PGBOUNCER, Services.Target.PGMUX, Services.Target.RELAY);

    /**
     * The rate of the fixed-rate case, well below what either pooler reaches here (~10,000 tps). At full load a
     * pooler's CPU per transaction depends on the throughput it got (more work per wake-up when busier); at a fixed
     * rate both do the same work per second, so their CPU per transaction compares like with like.
     */
    static final int FIXED_RATE = 5000;

    /** The comparison's workloads, in the order of the targets table. */
    static List<BenchCase> all(int idleClients) {
        return List.of(
                new BenchCase(
                        "select-only-16",
                        "pgbench -S simple, 16 clients",
                        Tool.PGBENCH,
                        List.of("-S", "-M", "simple", "-c", "16"),
                        ALL_AND_RELAY,
                        false),
                pgbench("select-only-64", "pgbench -S simple, 64 clients", "-S", "-M", "simple", "-c", "64"),
                new BenchCase(
                        "select-only-16-at-" + FIXED_RATE,
                        "pgbench -S simple, 16 clients, held at " + FIXED_RATE + " tps (pooler CPU at equal work)",
                        Tool.PGBENCH,
                        List.of("-S", "-M", "simple", "-c", "16", "-R", Integer.toString(FIXED_RATE)),
                        POOLERS_AND_RELAY,
                        false),
                pgbench(
                        "select-only-extended-64",
                        "pgbench -S -M extended, 64 clients",
                        "-S",
                        "-M",
                        "extended",
                        "-c",
                        "64"),
                pgbench("prepared-64", "pgbench -M prepared (tpcb-like), 64 clients", "-M", "prepared", "-c", "64"),
                pgbench("tpcb-like-32", "pgbench tpcb-like, 32 clients", "-M", "simple", "-c", "32"),
                pgbench("select-only-256", "pgbench -S, 256 clients (max_connections 200)", "-S", "-c", "256"),
                new BenchCase(
                        "select1-latency",
                        "SELECT 1, 1 client, pinned to core 1 (harness)",
                        Tool.HARNESS,
                        List.of("--workload", "select1", "--clients", "1", "--threads", "1"),
                        ALL_AND_RELAY,
                        true),
                pgbench("connect-storm-32", "pgbench -C -S, 32 clients (logins/s)", "-C", "-S", "-c", "32"),
                harnessStorm(),
                new BenchCase(
                        "harness-select-only-64",
                        "select-only, 64 clients (harness)",
                        Tool.HARNESS,
                        List.of("--workload", "select-only", "--clients", "64"),
                        ALL,
                        false),
                new BenchCase(
                        "harness-idle-crowd",
                        "select-only, 64 clients + " + idleClients + " idle (harness)",
                        Tool.HARNESS,
                        List.of(
                                "--workload",
                                "select-only",
                                "--clients",
                                "64",
                                "--idle",
                                Integer.toString(idleClients),
                                "--connect-rate",
                                "3000"),
                        POOLERS,
                        false));
    }

    /**
     * A connection storm whose client side is cheap: each of 32 clients connects, logs in with SCRAM-SHA-256 (client
     * keys cached, see {@link ScramKeyCache}), runs SELECT 1 and says Terminate, again and again. Its "tps" is logins
     * per second and its CPU per transaction the pooler's CPU per login. Also the warm-up of the login path.
     */
    static BenchCase harnessStorm() {
        return new BenchCase(
                "harness-connect-storm-32",
                "connect + SCRAM login + SELECT 1, 32 clients (harness, logins/s)",
                Tool.HARNESS,
                List.of("--workload", "connect-storm", "--clients", "32"),
                ALL,
                false);
    }

    private static BenchCase pgbench(String name, String title, String... args) {
        return new BenchCase(name, title, Tool.PGBENCH, List.of(args), ALL, false);
    }
}
