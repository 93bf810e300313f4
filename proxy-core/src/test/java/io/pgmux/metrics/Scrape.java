package io.pgmux.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A parsed Prometheus text-format page, for assertions: series by name and labels, and the declared types. */
public final class Scrape {
    private static final Pattern SERIES = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** One sample: name, labels, value. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    private final String text;
    private final List<Sample> samples = new ArrayList<>();
    private final Map<String, String> types = new TreeMap<>();

    private Scrape(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ");
                types.put(parts[2], parts[3]);
                continue;
            }
            Matcher m = SERIES.matcher(line);
            if (!line.startsWith("#") && m.matches()) {
                samples.add(new Sample(m.group(1), labels(m.group(2)), Double.parseDouble(m.group(3))));
            }
        }
    }

    public static Scrape parse(String text) {
        return new Scrape(text);
    }

    /** The type of a metric family, from its {@code # TYPE} line; null when absent. */
    public String type(String family) {
        return types.get(family);
    }

    /** The samples of {@code name} whose labels include {@code labels} (name, value, name, value, …). */
    public List<Sample> samples(String name, String... labels) {
        List<Sample> out = new ArrayList<>();
        for (Sample sample : samples) {
            if (sample.name().equals(name) && matches(sample.labels(), labels)) {
                out.add(sample);
            }
        }
        return out;
    }

    /** The value of the one sample of {@code name} with {@code labels}; fails when there is none or several. */
    public double value(String name, String... labels) {
        List<Sample> found = samples(name, labels);
        if (found.size() != 1) {
            throw new AssertionError("expected one sample " + name + " " + List.of(labels) + ", found " + found.size()
                    + " in:\n" + text);
        }
        return found.get(0).value();
    }

    /** Like {@link #value} but 0 when the series does not exist yet (a labelled counter before its first event). */
    public double valueOrZero(String name, String... labels) {
        return samples(name, labels).isEmpty() ? 0 : value(name, labels);
    }

    public String text() {
        return text;
    }

    private static boolean matches(Map<String, String> have, String[] want) {
        for (int i = 0; i + 1 < want.length; i += 2) {
            if (!want[i + 1].equals(have.getOrDefault(want[i], ""))) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, String> labels(String group) {
        Map<String, String> labels = new TreeMap<>();
        if (group != null) {
            Matcher m = LABEL.matcher(group);
            while (m.find()) {
                labels.put(m.group(1), m.group(2));
            }
        }
        return labels;
    }
}
