package io.pgmux.load;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The process under test, watched from outside: CPU time and RSS from {@code /proc/PID}, and for pgmux its heap after
 * a full GC ({@code jcmd PID GC.run}) and direct memory from its {@code /metrics}.
 */
final class TargetProbe {
    /** Memory of the target at one moment; -1 where unknown. */
    record MemorySample(long rssBytes, long heapBytes, long directBytes) {
        static final MemorySample UNKNOWN = new MemorySample(-1, -1, -1);

        /** Heap after GC plus direct memory: what pgmux itself holds; -1 when not a JVM with metrics. */
        long jvmBytes() {
            return heapBytes < 0 || directBytes < 0 ? -1 : heapBytes + directBytes;
        }
    }

    private final long pid;
    private final URI metricsUrl;
    private final long ticksPerSecond;

    /** @param pid the target's process id, or 0 for none; @param metricsUrl pgmux's /metrics, or null */
    TargetProbe(long pid, URI metricsUrl) {
        this.pid = pid;
        this.metricsUrl = metricsUrl;
        this.ticksPerSecond = clockTicks();
    }

    boolean present() {
        return pid > 0;
    }

    /** User plus system CPU the target has used so far, in nanoseconds; -1 without a target. */
    long cpuNanos() {
        if (!present()) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The command name is in parentheses and may hold spaces: count fields after the last ')'.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14, 15)
            return ticks * 1_000_000_000L / ticksPerSecond;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Memory now; for pgmux after a full GC, so that the heap figure is what is live. */
    MemorySample memory() {
        if (!present()) {
            return MemorySample.UNKNOWN;
        }
        long heap = -1;
        long direct = -1;
        if (metricsUrl != null) {
            collectGarbage();
            String metrics = fetch(metricsUrl);
            if (metrics != null) {
                heap = sum(metrics, "jvm_memory_used_bytes{", "area=\"heap\"");
                long jvmDirect = sum(metrics, "jvm_buffer_memory_used_bytes{", "id=\"direct\"");
                // Netty's pooled allocator may allocate without the JDK's accounting; take the larger figure.
                long nettyDirect = sum(metrics, "netty_allocator_memory_used", "direct");
                direct = Math.max(jvmDirect, nettyDirect);
            }
        }
        return new MemorySample(rssBytes(), heap, direct);
    }

    private long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private void collectGarbage() {
        try {
            Process jcmd = new ProcessBuilder("jcmd", Long.toString(pid), "GC.run")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!jcmd.waitFor(60, TimeUnit.SECONDS)) {
                jcmd.destroyForcibly();
            }
        } catch (IOException e) {
            System.err.println("pgmux-bench: jcmd GC.run failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String fetch(URI url) {
        try {
            HttpClient http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? response.body() : null;
        } catch (IOException e) {
            System.err.println("pgmux-bench: cannot read " + url + ": " + e.getMessage());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Sums the samples of the Prometheus lines that start with {@code prefix} and contain {@code label}. */
    static long sum(String metrics, String prefix, String label) {
        double total = 0;
        boolean found = false;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(prefix) && line.contains(label)) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                found = true;
            }
        }
        return found ? (long) total : -1;
    }

    private static long clockTicks() {
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK").start();
            String out = new String(getconf.getInputStream().readAllBytes()).trim();
            getconf.waitFor(5, TimeUnit.SECONDS);
            return Long.parseLong(out);
        } catch (IOException | RuntimeException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
