package io.pgmux.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** What one harness run measured; written as CSV (one row) and read back by {@link Comparison}. */
record LoadResult(
        String label,
        String workload,
        String protocol,
        int clients,
        int idleClients,
        double seconds,
        long transactions,
        double tps,
        double meanMicros,
        double p50Micros,
        double p99Micros,
        double p999Micros,
        double maxMicros,
        long logins,
        double loginsPerSecond,
        double loginP99Micros,
        long errors,
        String errorsBySqlState,
        double targetCpuMicrosPerTransaction,
        long targetRssBytes,
        long targetJvmBytes,
        double jvmBytesPerIdleClient,
        double rssBytesPerIdleClient) {

    static final List<String> COLUMNS = List.of(
            "label",
            "workload",
            "protocol",
            "clients",
            "idle_clients",
            "seconds",
            "transactions",
            "tps",
            "mean_us",
            "p50_us",
            "p99_us",
            "p99_9_us",
            "max_us",
            "logins",
            "logins_per_s",
            "login_p99_us",
            "errors",
            "errors_by_sqlstate",
            "target_cpu_us_per_tx",
            "target_rss_bytes",
            "target_jvm_bytes",
            "jvm_bytes_per_idle_client",
            "rss_bytes_per_idle_client");

    List<String> values() {
        return List.of(
                label,
                workload,
                protocol,
                Integer.toString(clients),
                Integer.toString(idleClients),
                num(seconds),
                Long.toString(transactions),
                num(tps),
                num(meanMicros),
                num(p50Micros),
                num(p99Micros),
                num(p999Micros),
                num(maxMicros),
                Long.toString(logins),
                num(loginsPerSecond),
                num(loginP99Micros),
                Long.toString(errors),
                errorsBySqlState,
                num(targetCpuMicrosPerTransaction),
                Long.toString(targetRssBytes),
                Long.toString(targetJvmBytes),
                num(jvmBytesPerIdleClient),
                num(rssBytesPerIdleClient));
    }

    static String num(double d) {
        return Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%.2f", d);
    }

    /** Errors as {@code SQLSTATE=count;...}: no commas, so the CSV needs no quoting. */
    static String formatErrors(Map<String, Long> errors) {
        return errors.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(";"));
    }

    void writeCsv(Path file) throws IOException {
        Files.writeString(file, String.join(",", COLUMNS) + "\n" + String.join(",", values()) + "\n");
    }

    /** The single row of a file written by {@link #writeCsv}, by column name. */
    static Map<String, String> readCsv(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        if (lines.size() < 2) {
            throw new IOException(file + ": no result row");
        }
        String[] names = lines.get(0).split(",", -1);
        String[] values = lines.get(1).split(",", -1);
        Map<String, String> row = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            row.put(names[i], i < values.length ? values[i] : "");
        }
        return row;
    }
}
