package io.pgmux.load;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * One run of one case against one target.
 *
 * @param tps transactions per second (with pgbench -C: connections per second, each is one transaction)
 * @param latencyMillis pgbench's average latency, or the harness's p50
 * @param p99Millis the harness's p99 (NaN for pgbench)
 * @param errors failed transactions plus aborted clients (pgbench) or errors (harness)
 * @param errorText the first error messages, for the report
 * @param cpuMicrosPerTransaction the target process's user+system CPU per transaction (NaN for direct)
 * @param bytesPerIdleClient pgmux: heap after GC + direct memory per idle client; PgBouncer: RSS per idle client
 * @param rssBytesPerIdleClient RSS growth per idle client
 */
record Measurement(
        Services.Target target,
        int rep,
        double tps,
        double latencyMillis,
        double p99Millis,
        long errors,
        String errorText,
        double cpuMicrosPerTransaction,
        double bytesPerIdleClient,
        double rssBytesPerIdleClient) {

    /** Median of a field over runs, ignoring NaN; NaN when none has it. */
    static double median(List<Measurement> runs, ToDoubleFunction<Measurement> field) {
        List<Double> values = values(runs, field);
        if (values.isEmpty()) {
            return Double.NaN;
        }
        int n = values.size();
        return n % 2 == 1 ? values.get(n / 2) : (values.get(n / 2 - 1) + values.get(n / 2)) / 2;
    }

    static double min(List<Measurement> runs, ToDoubleFunction<Measurement> field) {
        List<Double> values = values(runs, field);
        return values.isEmpty() ? Double.NaN : values.get(0);
    }

    static double max(List<Measurement> runs, ToDoubleFunction<Measurement> field) {
        List<Double> values = values(runs, field);
        return values.isEmpty() ? Double.NaN : values.get(values.size() - 1);
    }

    private static List<Double> values(List<Measurement> runs, ToDoubleFunction<Measurement> field) {
        List<Double> values = new ArrayList<>();
        for (Measurement m : runs) {
            double v = field.applyAsDouble(m);
            if (!Double.isNaN(v)) {
                values.add(v);
            }
        }
        values.sort(Double::compare);
        return values;
    }
}
