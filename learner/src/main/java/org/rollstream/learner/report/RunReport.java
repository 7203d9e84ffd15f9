package org.rollstream.learner.report;

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
import org.rollstream.schemas.records.MetricEvent;

/**
 * The report folder of a run: the metrics as CSV, one PNG plot per headline curve (reward,
 * held-out accuracy, KL, response length) over GRPO steps, and a summary table in Markdown.
 * Where the Java runtime cannot draw (no {@code java.desktop}), the plots are skipped with a
 * message and the rest is written.
 */
public final class RunReport {
    private RunReport() {
    }

    /**
     * Writes the report into {@code dir}; {@code summary} rows become the Markdown table.
     *
     * @return the files written
     */
    public static List<Path> write(Path dir, Path metricsCsv, List<MetricEvent> events, Map<String, String> summary) {
        List<Path> written = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            if (metricsCsv != null && Files.exists(metricsCsv)) {
                Path csv = dir.resolve("metrics.csv");
                Files.copy(metricsCsv, csv, StandardCopyOption.REPLACE_EXISTING);
                written.add(csv);
            }
            try {
                RunCharts.write(dir, events, written);
            } catch (LinkageError e) { // a runtime without java.desktop: CSV and summary still count
                System.err.println("report: plots skipped, this Java runtime cannot draw them (" + e + ")");
            }
            Path md = dir.resolve("summary.md");
            Files.writeString(md, markdown(summary, written));
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

    private static String markdown(Map<String, String> summary, List<Path> written) {
        StringBuilder sb = new StringBuilder("# Rollstream run summary\n\n| measure | value |\n| --- | --- |\n");
        summary.forEach((k, v) -> sb.append("| ").append(k).append(" | ").append(v).append(" |\n"));
        List<String> plots = new ArrayList<>();
        for (Path p : written) {
            String f = p.getFileName().toString();
            if (f.endsWith(".png")) {
                plots.add("[" + f + "](" + f + ")");
            }
        }
        sb.append("\nPlots: ").append(plots.isEmpty() ? "none" : String.join(", ", plots));
        sb.append(". Raw values: metrics.csv (step,kind,name,value,timestamp_ms).\n");
        return sb.toString();
    }

    /** Convenience for callers building the summary in order. */
    public static Map<String, String> newSummary() {
        return new LinkedHashMap<>();
    }
}
