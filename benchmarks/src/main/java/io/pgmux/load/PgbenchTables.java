package io.pgmux.load;

import java.util.List;

/**
 * pgbench's four tables, created and filled the way {@code pgbench -i -s N} does (server-side generate_series), so
 * that the harness can set up a database where there is no pgbench (the compose file's load generator).
 */
final class PgbenchTables {
    private PgbenchTables() {}

    static List<Workload.Call> script(int scale) {
        return List.of(
                call("DROP TABLE IF EXISTS pgbench_history, pgbench_tellers, pgbench_accounts, pgbench_branches"),
                call("CREATE TABLE pgbench_branches (bid int NOT NULL PRIMARY KEY, bbalance int, filler char(88))"
                        + " WITH (fillfactor = 100)"),
                call("CREATE TABLE pgbench_tellers (tid int NOT NULL PRIMARY KEY, bid int, tbalance int,"
                        + " filler char(84)) WITH (fillfactor = 100)"),
                call("CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84))"
                        + " WITH (fillfactor = 100)"),
                call("CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp,"
                        + " filler char(22))"),
                call("INSERT INTO pgbench_branches (bid, bbalance) SELECT g, 0 FROM generate_series(1, " + scale
                        + ") g"),
                call("INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT g, (g - 1) / 10 + 1, 0"
                        + " FROM generate_series(1, " + 10 * scale + ") g"),
                call("INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT g, (g - 1) / 100000 + 1, 0, ''"
                        + " FROM generate_series(1, " + 100_000 * scale + ") g"),
                call("ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)"),
                call("VACUUM ANALYZE pgbench_branches, pgbench_tellers, pgbench_accounts, pgbench_history"));
    }

    private static Workload.Call call(String sql) {
        return new Workload.Call(new Workload.Statement(sql));
    }
}
