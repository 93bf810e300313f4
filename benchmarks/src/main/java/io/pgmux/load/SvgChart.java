package io.pgmux.load;

import java.util.List;
import java.util.Locale;

/** Small self-contained SVG charts: grouped bars (a comparison) and lines (a run over time). */
final class SvgChart {
    private static final String[] COLOURS = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1"};
    private static final int WIDTH = 760;
    private static final int HEIGHT = 400;
    private static final int LEFT = 70;
    private static final int BOTTOM = 150;
    private static final int TOP = 40;

    private SvgChart() {}

    /** One group of bars per category, one bar per series; {@code values[series][category]}, NaN for none. */
    static String bars(String title, String unit, List<String> categories, List<String> series, double[][] values) {
        double max = maxOf(values);
        StringBuilder svg = begin(title, unit, max);
        int plotWidth = WIDTH - LEFT - 20;
        double groupWidth = (double) plotWidth / Math.max(1, categories.size());
        double barWidth = groupWidth * 0.8 / Math.max(1, series.size());
        for (int c = 0; c < categories.size(); c++) {
            double groupX = LEFT + c * groupWidth + groupWidth * 0.1;
            for (int s = 0; s < series.size(); s++) {
                double v = values[s][c];
                if (Double.isNaN(v)) {
                    continue;
                }
                double h = scaled(v, max);
                svg.append(String.format(
                        Locale.ROOT,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s %s: %.1f %s"
                                + "</title></rect>%n",
                        groupX + s * barWidth,
                        HEIGHT - BOTTOM - h,
                        barWidth * 0.95,
                        h,
                        COLOURS[s % COLOURS.length],
                        escape(series.get(s)),
                        escape(categories.get(c)),
                        v,
                        escape(unit)));
            }
            // slanted, so that long workload names do not run into each other
            double labelX = groupX + groupWidth * 0.4;
            double labelY = HEIGHT - BOTTOM + 12;
            svg.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"9\" transform=\"rotate(-60 %.1f %.1f)\">"
                            + "%s</text>%n",
                    labelX,
                    labelY,
                    labelX,
                    labelY,
                    escape(categories.get(c))));
        }
        return end(svg, series);
    }

    /** One line per series over {@code x} seconds; {@code values[series][i]}. */
    static String lines(String title, String unit, List<String> series, double[][] values) {
        double max = maxOf(values);
        StringBuilder svg = begin(title, unit, max);
        int plotWidth = WIDTH - LEFT - 20;
        for (int s = 0; s < series.size(); s++) {
            double[] v = values[s];
            StringBuilder points = new StringBuilder();
            for (int i = 0; i < v.length; i++) {
                double x = LEFT + (v.length == 1 ? 0 : (double) i * plotWidth / (v.length - 1));
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, HEIGHT - BOTTOM - scaled(v[i], max)));
            }
            svg.append(String.format(
                    "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n",
                    COLOURS[s % COLOURS.length], points.toString().trim()));
        }
        svg.append(text(LEFT + plotWidth / 2.0, HEIGHT - BOTTOM + 16, "seconds", "middle", 10));
        return end(svg, series);
    }

    private static StringBuilder begin(String title, String unit, double max) {
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">%n",
                WIDTH, HEIGHT));
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.append(text(WIDTH / 2.0, 20, title, "middle", 14));
        svg.append(String.format(
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
                LEFT, HEIGHT - BOTTOM, WIDTH - 20, HEIGHT - BOTTOM));
        for (int i = 0; i <= 4; i++) {
            double v = max * i / 4;
            double y = HEIGHT - BOTTOM - scaled(v, max);
            svg.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                    LEFT,
                    y,
                    WIDTH - 20,
                    y));
            svg.append(text(LEFT - 6, y + 4, String.format(Locale.ROOT, "%.4g", v), "end", 10));
        }
        svg.append(text(14, TOP + 10, unit, "start", 10));
        return svg;
    }

    private static String end(StringBuilder svg, List<String> series) {
        for (int s = 0; s < series.size(); s++) {
            int x = LEFT + s * 150;
            svg.append(String.format(
                    "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>%n",
                    x, HEIGHT - 24, COLOURS[s % COLOURS.length]));
            svg.append(text(x + 16, HEIGHT - 14, series.get(s), "start", 11));
        }
        return svg.append("</svg>\n").toString();
    }

    private static double scaled(double v, double max) {
        return max <= 0 ? 0 : v / max * (HEIGHT - BOTTOM - TOP);
    }

    private static double maxOf(double[][] values) {
        double max = 0;
        for (double[] row : values) {
            for (double v : row) {
                if (!Double.isNaN(v)) {
                    max = Math.max(max, v);
                }
            }
        }
        return max;
    }

    private static String text(double x, double y, String s, String anchor, int size) {
        return String.format(
                Locale.ROOT,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">%s</text>%n",
                x,
                y,
                anchor,
                size,
                escape(s));
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
