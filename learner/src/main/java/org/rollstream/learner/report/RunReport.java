package org.rollstream.learner.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.rollstream.schemas.records.MetricEvent;

/**
 * The report folder of a run: the metrics as CSV, one PNG plot per headline curve (reward,
 * held-out accuracy, KL, response length) over GRPO steps, and a summary table in Markdown.
 */
public final class RunReport {
    /** A plotted curve: metric name, kind of event it comes from, and the title. */
    private record Curve(String file, String title, String yLabel, String kind, String metric) {
    }

    private static final List<Curve> CURVES = List.of(
            new Curve("reward.png", "Mean reward of sampled groups", "reward", "train", "reward"),
            new Curve("accuracy.png", "Held-out greedy accuracy", "accuracy", "eval", "heldout_accuracy"),
            new Curve("kl.png", "KL to the reference (k3)", "KL", "train", "kl"),
            new Curve("response_length.png", "Mean response length", "tokens", "train", "response_length"));

    private RunReport() {
    }

    /**
     * Writes the report into {@code dir}; {@code summary} rows become the Markdown table.
     *
     * @return the files written
     */
    public static List<Path> write(Path dir, Path metricsCsv, List<MetricEvent> events, Map<String, String> summary) {
        System.setProperty("java.awt.headless", "true");
        List<Path> written = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            if (metricsCsv != null && Files.exists(metricsCsv)) {
                Path csv = dir.resolve("metrics.csv");
                Files.copy(metricsCsv, csv, StandardCopyOption.REPLACE_EXISTING);
                written.add(csv);
            }
            for (Curve c : CURVES) {
                XYSeries series = series(events, c);
                if (series.isEmpty()) {
                    continue;
                }
                Path png = dir.resolve(c.file());
                ChartUtils.saveChartAsPNG(png.toFile(), chart(c, series), 800, 450);
                written.add(png);
            }
            Path md = dir.resolve("summary.md");
            Files.writeString(md, markdown(summary));
            written.add(md);
            return written;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report in " + dir, e);
        }
    }

    /** The summary as an aligned plain-text table, for the terminal. */
    public static String table(Map<String, String> summary) {
        int w = summary.keySet().stream().mapToInt(String::length).max().orElse(0);
        StringBuilder sb = new StringBuilder();
        summary.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-" + w + "s  %s%n", k, v)));
        return sb.toString();
    }

    static XYSeries series(List<MetricEvent> events, Curve c) {
        XYSeries s = new XYSeries(c.metric(), true, true);
        for (MetricEvent e : events) {
            Double v = e.getValues().get(c.metric());
            if (c.kind().equals(e.getKind()) && v != null && Double.isFinite(v)) {
                s.addOrUpdate((double) e.getStep(), v.doubleValue());
            }
        }
        return s;
    }

    private static JFreeChart chart(Curve c, XYSeries series) {
        JFreeChart chart = ChartFactory.createXYLineChart(c.title(), "GRPO step", c.yLabel(),
                new XYSeriesCollection(series), PlotOrientation.VERTICAL, false, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.getRenderer().setSeriesPaint(0, new Color(0x1f, 0x77, 0xb4));
        plot.getRenderer().setSeriesStroke(0, new BasicStroke(2f));
        return chart;
    }

    private static String markdown(Map<String, String> summary) {
        StringBuilder sb = new StringBuilder("# Rollstream run summary\n\n| measure | value |\n| --- | --- |\n");
        summary.forEach((k, v) -> sb.append("| ").append(k).append(" | ").append(v).append(" |\n"));
        sb.append("\nPlots: ");
        List<String> files = new ArrayList<>();
        CURVES.forEach(c -> files.add("[" + c.file() + "](" + c.file() + ")"));
        sb.append(String.join(", ", files)).append(". Raw values: metrics.csv (step,kind,name,value,timestamp_ms).\n");
        return sb.toString();
    }

    /** Convenience for callers building the summary in order. */
    public static Map<String, String> newSummary() {
        return new LinkedHashMap<>();
    }
}
