package org.rollstream.learner.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.rollstream.schemas.records.MetricEvent;

/**
 * The report's PNG plots. Kept apart from {@link RunReport} so that a Java runtime without
 * {@code java.desktop} (such as the trimmed one of the GPU bundle) fails only here, when a chart
 * is drawn, and the rest of the report is still written.
 */
final class RunCharts {
    /** A plotted curve: metric name, kind of event it comes from, and the title. */
    record Curve(String file, String title, String yLabel, String kind, String metric) {
    }

    static final List<Curve> CURVES = List.of(
            new Curve("reward.png", "Mean reward of sampled groups", "reward", "train", "reward"),
            new Curve("accuracy.png", "Held-out greedy accuracy", "accuracy", "eval", "heldout_accuracy"),
            new Curve("kl.png", "KL to the reference (k3)", "KL", "train", "kl"),
            new Curve("response_length.png", "Mean response length", "tokens", "train", "response_length"));

    private RunCharts() {
    }

    /** Draws every curve that has points into {@code dir}, adding each file to {@code written}. */
    static void write(Path dir, List<MetricEvent> events, List<Path> written) throws IOException {
        System.setProperty("java.awt.headless", "true");
        for (Curve c : CURVES) {
            XYSeries series = series(events, c);
            if (series.isEmpty()) {
                continue;
            }
            Path png = dir.resolve(c.file());
            ChartUtils.saveChartAsPNG(png.toFile(), chart(c, series), 800, 450);
            written.add(png);
        }
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
}
