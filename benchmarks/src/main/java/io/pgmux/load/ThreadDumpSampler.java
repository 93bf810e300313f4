package io.pgmux.load;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A second opinion next to JFR: {@code jcmd PID Thread.print} twice a second, counting the top frame and the
 * innermost pgmux frame of every pgmux thread that is running (not parked, not waiting in epoll).
 */
final class ThreadDumpSampler implements Runnable {
    private final long pid;
    private final Map<String, Integer> top = new HashMap<>();
    private final Map<String, Integer> pgmux = new HashMap<>();
    private int dumps;
    private int running;
    private volatile boolean stopped;

    ThreadDumpSampler(long pid) {
        this.pid = pid;
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        while (!stopped) {
            try {
                Process jcmd = new ProcessBuilder("jcmd", Long.toString(pid), "Thread.print")
                        .redirectErrorStream(true)
                        .start();
                String dump = new String(jcmd.getInputStream().readAllBytes());
                jcmd.waitFor(10, TimeUnit.SECONDS);
                synchronized (this) {
                    dumps++;
                    count(dump);
                }
                TimeUnit.MILLISECONDS.sleep(500);
            } catch (IOException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void count(String dump) {
        for (String block : dump.split("\n\n")) {
            String trimmed = block.strip();
            if (!trimmed.startsWith("\"pgmux") || !trimmed.contains("java.lang.Thread.State: RUNNABLE")) {
                continue;
            }
            List<String> frames = new ArrayList<>();
            for (String line : trimmed.split("\n")) {
                String l = line.strip();
                if (l.startsWith("at ")) {
                    String frame = l.substring(3);
                    int paren = frame.indexOf('(');
                    frames.add(paren > 0 ? frame.substring(0, paren) : frame);
                }
            }
            if (frames.isEmpty() || idle(frames.get(0))) {
                continue;
            }
            running++;
            top.merge(frames.get(0), 1, Integer::sum);
            frames.stream()
                    .filter(f -> f.startsWith("io.pgmux."))
                    .findFirst()
                    .ifPresent(f -> pgmux.merge(f, 1, Integer::sum));
        }
    }

    private static boolean idle(String frame) {
        return frame.contains("epollWait")
                || frame.contains("epoll_wait")
                || frame.contains("EPoll.wait")
                || frame.contains("Unsafe.park")
                || frame.contains("Object.wait")
                || frame.contains("accept");
    }

    synchronized List<String> summary() {
        List<String> out = new ArrayList<>();
        out.add(String.format(
                Locale.ROOT,
                "Thread dumps (`jcmd PID Thread.print`, every 0.5 s): %d dumps, %d running pgmux threads caught.",
                dumps,
                running));
        out.add("");
        out.add("| running frame (thread dumps) | share |");
        out.add("|---|---|");
        out.addAll(Profiler.ranked(top, running));
        out.add("");
        out.add("| innermost pgmux frame (thread dumps) | share |");
        out.add("|---|---|");
        out.addAll(Profiler.ranked(pgmux, running));
        return out;
    }
}
