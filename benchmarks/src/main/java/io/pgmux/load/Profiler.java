package io.pgmux.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where pgmux's CPU goes under select-only load: a JFR recording ({@code jcmd PID JFR.start}) while the harness runs
 * 64 clients, summarised from {@code jfr print --events jdk.ExecutionSample,jdk.NativeMethodSample} as the methods most often on top of
 * the stack, and the pgmux methods most often anywhere on it.
 */
final class Profiler {
    private static final int SECONDS = 20;
    private static final int TOP = 12;

    private Profiler() {}

    static List<String> profile(Comparison comparison, Services services, Path work)
            throws IOException, InterruptedException {
        long pid = services.pid(Services.Target.PGMUX);
        Path recording = work.resolve("pgmux-profile.jfr");
        Path log = work.resolve("jfr.log");
        comparison.log("profiling pgmux with JFR for " + SECONDS + " s");
        int started = services.run(
                List.of(
                        "jcmd",
                        Long.toString(pid),
                        "JFR.start",
                        "name=pgmux-bench",
                        "settings=profile",
                        "duration=" + SECONDS + "s",
                        "filename=" + recording),
                log,
                60);
        if (started != 0) {
            return List.of("JFR could not be started (jcmd exited " + started + "); see " + log);
        }
        BenchCase load = new BenchCase(
                "profile",
                "select-only, 64 clients, under JFR",
                BenchCase.Tool.HARNESS,
                List.of("--workload", "select-only", "--clients", "64"),
                BenchCase.POOLERS,
                false);
        ThreadDumpSampler sampler = new ThreadDumpSampler(pid);
        Thread sampling = new Thread(sampler, "thread-dump-sampler");
        sampling.start();
        try {
            comparison.harness(load, Services.Target.PGMUX, 1, "profile", pid, SECONDS + 2, true);
        } finally {
            sampler.stop();
            sampling.join(30_000);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(recording) && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(500);
        }
        Path printed = work.resolve("pgmux-profile.txt");
        int status = services.run(
                List.of("jfr", "print", "--events", "jdk.ExecutionSample,jdk.NativeMethodSample", recording.toString()),
                printed,
                300);
        if (status != 0) {
            return List.of("jfr print failed (exit " + status + "); see " + printed);
        }
        List<String> out = new java.util.ArrayList<>(summarise(Files.readAllLines(printed), recording));
        out.add("");
        out.addAll(sampler.summary());
        return out;
    }

    static List<String> summarise(List<String> lines, Path recording) {
        Map<String, Integer> top = new HashMap<>();
        Map<String, Integer> pgmux = new HashMap<>();
        int samples = 0;
        int idle = 0;
        boolean inStack = false;
        boolean first = false;
        java.util.Set<String> seenInStack = new java.util.HashSet<>();
        for (String raw : lines) {
            String line = raw.trim();
            if (line.startsWith("stackTrace = [")) {
                inStack = true;
                first = true;
                seenInStack.clear();
                samples++;
                continue;
            }
            if (!inStack) {
                continue;
            }
            if (line.startsWith("]")) {
                inStack = false;
                continue;
            }
            String frame = frameName(line);
            if (frame.isEmpty() || frame.equals("...")) {
                continue;
            }
            if (first) {
                first = false;
                if (frame.contains("epollWait")) {
                    // an event loop waiting for work: idle, not CPU
                    idle++;
                    inStack = false;
                    continue;
                }
                top.merge(frame, 1, Integer::sum);
            }
            if (frame.startsWith("io.pgmux.") && seenInStack.add(frame)) {
                pgmux.merge(frame, 1, Integer::sum);
            }
        }
        List<String> out = new java.util.ArrayList<>();
        out.add(String.format(
                Locale.ROOT,
                "%d samples (JFR `profile` settings, jdk.ExecutionSample + jdk.NativeMethodSample) of pgmux during"
                        + " %d s of select-only with 64 clients, of which %d in epollWait (idle) are left out; shares"
                        + " below are of the %d others. Recording: `%s`.",
                samples,
                SECONDS,
                idle,
                samples - idle,
                recording.getFileName()));
        samples -= idle;
        out.add("");
        out.add("| top frame (self) | share |");
        out.add("|---|---|");
        ranked(top, samples).forEach(out::add);
        out.add("");
        out.add("| pgmux method anywhere on the stack (inclusive) | share |");
        out.add("|---|---|");
        ranked(pgmux, samples).forEach(out::add);
        return out;
    }

    static List<String> ranked(Map<String, Integer> counts, int samples) {
        return counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .limit(TOP)
                .map(e -> String.format(
                        Locale.ROOT, "| `%s` | %.1f%% |", e.getKey(), 100.0 * e.getValue() / Math.max(1, samples)))
                .toList();
    }

    /** {@code io.netty.Foo.bar(int, Object) line: 12} → {@code io.netty.Foo.bar}. */
    private static String frameName(String line) {
        int paren = line.indexOf('(');
        return paren > 0 ? line.substring(0, paren) : line;
    }
}
