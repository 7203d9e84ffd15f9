package org.rollstream.launcher.pipeline;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * The pipeline's report, {@code <pipelineDir>/report/}: {@code summary.md} (one row per stage and
 * per model the distillation stage compares, with held-out accuracy, format and language-consistency
 * rates, reward-model score, response length, samples kept and time; then every artifact),
 * {@code metrics.csv} (every figure of every stage), and bar charts {@code accuracy.png},
 * {@code rates.png} and {@code seconds.png}.
 */
public final class PipelineReport {
    /** The table's columns: metric key → heading. */
    static final Map<String, String> COLUMNS = columns();

    private static Map<String, String> columns() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put(Metrics.ACCURACY, "held-out accuracy");
        c.put(Metrics.FORMAT_RATE, "format rate");
        c.put(Metrics.LANGUAGE_CONSISTENCY, "language consistency");
        c.put(Metrics.RM_SCORE, "reward-model score");
        c.put(Metrics.RM_SCORE_SAMPLED, "reward-model score, sampled");
        c.put(Metrics.RESPONSE_TOKENS, "response tokens");
        c.put(Metrics.SAMPLES_KEPT, "samples kept");
        c.put(Metrics.SECONDS, "seconds");
        return c;
    }

    /** One row of the table: a stage, or a model within a stage ({@code <model>.<metric>} keys). */
    public record Row(String name, Map<String, Double> figures) {
    }

    private PipelineReport() {
    }

    /** The rows for {@code results} (in stage order): each stage, then each model named in its metrics. */
    public static List<Row> rows(Map<String, StageResult> results) {
        List<Row> rows = new ArrayList<>();
        for (StageResult r : results.values()) {
            Map<String, Double> own = new LinkedHashMap<>();
            Map<String, Map<String, Double>> models = new LinkedHashMap<>();
            r.metrics().forEach((k, v) -> {
                int dot = k.lastIndexOf('.');
                if (dot < 0) {
                    own.put(k, v);
                } else if (COLUMNS.containsKey(k.substring(dot + 1))) {
                    models.computeIfAbsent(k.substring(0, dot), m -> new LinkedHashMap<>()).put(k.substring(dot + 1), v);
                }
            });
            rows.add(new Row(r.stage(), own));
            models.forEach((m, f) -> rows.add(new Row(r.stage() + " / " + m, f)));
        }
        return rows;
    }

    /** The table as aligned text, for the terminal. */
    public static String table(Map<String, StageResult> results) {
        List<Row> rows = rows(results);
        int w = rows.stream().mapToInt(r -> r.name().length()).max().orElse(5);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-" + w + "s", "stage"));
        List<String> heads = List.of("acc", "format", "lang", "rm", "tokens", "kept", "seconds");
        heads.forEach(h -> sb.append(String.format(Locale.ROOT, " %8s", h)));
        sb.append(System.lineSeparator());
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "  %-" + w + "s", r.name()));
            for (String k : COLUMNS.keySet()) {
                sb.append(String.format(Locale.ROOT, " %8s", cell(k, r.figures().get(k))));
            }
            sb.append(System.lineSeparator());
        }
        return sb.toString();
    }

    static String cell(String key, Double v) {
        if (v == null || v.isNaN()) {
            return "-";
        }
        return switch (key) {
            case Metrics.ACCURACY, Metrics.FORMAT_RATE, Metrics.LANGUAGE_CONSISTENCY -> String.format(Locale.ROOT, "%.1f%%", 100 * v);
            case Metrics.SAMPLES_KEPT -> String.format(Locale.ROOT, "%.0f", v);
            case Metrics.SECONDS, Metrics.RESPONSE_TOKENS -> String.format(Locale.ROOT, "%.1f", v);
            default -> String.format(Locale.ROOT, "%.3f", v);
        };
    }

    /**
     * Writes the report into {@code dir}.
     *
     * @return the files written
     */
    public static List<Path> write(Path dir, Map<String, StageResult> results, String command) {
        System.setProperty("java.awt.headless", "true");
        List<Row> rows = rows(results);
        List<Path> written = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            Path md = dir.resolve("summary.md");
            Files.writeString(md, markdown(rows, results, dir.getParent(), command));
            written.add(md);
            Path csv = dir.resolve("metrics.csv");
            StringBuilder sb = new StringBuilder("stage,name,value\n");
            results.values().forEach(r -> new TreeMap<>(r.metrics()).forEach((k, v) ->
                    sb.append(r.stage()).append(',').append(k).append(',').append(v).append('\n')));
            Files.writeString(csv, sb.toString());
            written.add(csv);
            written.add(chart(dir.resolve("accuracy.png"), "Held-out accuracy", "accuracy", rows, List.of(Metrics.ACCURACY)));
            written.add(chart(dir.resolve("rates.png"), "Format and language-consistency rates", "share", rows,
                    List.of(Metrics.FORMAT_RATE, Metrics.LANGUAGE_CONSISTENCY)));
            written.add(chart(dir.resolve("seconds.png"), "Wall time", "seconds", rows, List.of(Metrics.SECONDS)));
            return written;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the pipeline report in " + dir, e);
        }
    }

    private static Path chart(Path file, String title, String axis, List<Row> rows, List<String> keys) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Row r : rows) {
            for (String k : keys) {
                Double v = r.figures().get(k);
                if (v != null && !v.isNaN()) {
                    data.addValue(v, COLUMNS.get(k), r.name());
                }
            }
        }
        JFreeChart chart = ChartFactory.createBarChart(title, null, axis, data, PlotOrientation.HORIZONTAL,
                keys.size() > 1, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.getRenderer().setSeriesPaint(0, new Color(0x1f, 0x77, 0xb4));
        plot.getRenderer().setSeriesPaint(1, new Color(0xff, 0x7f, 0x0e));
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 900, 120 + 40 * Math.max(1, rows.size()));
        return file;
    }

    /** The distillation stage's models side by side with what each cost: updates, sequences trained, completions sampled. */
    static String distillationBudgets(Map<String, Double> m) {
        StringBuilder sb = new StringBuilder("## Distillation: the students and their budgets\n\n")
                .append("| model | held-out accuracy | optimizer updates | sequences trained | completions sampled | seconds |\n")
                .append("| --- | ---: | ---: | ---: | ---: | ---: |\n");
        for (String model : List.of(DistillationStage.TEACHER, DistillationStage.STUDENT, DistillationStage.RL_STUDENT,
                DistillationStage.ONPOLICY_STUDENT)) {
            if (!m.containsKey(model + "." + Metrics.ACCURACY)) {
                continue;
            }
            boolean teacher = model.equals(DistillationStage.TEACHER);
            sb.append("| ").append(model).append(" | ").append(cell(Metrics.ACCURACY, m.get(model + "." + Metrics.ACCURACY)))
                    .append(" | ").append(teacher ? "stages 1-4" : count(m.get(model + ".updates")))
                    .append(" | ").append(teacher ? "" : count(m.get(model + ".trained-sequences")))
                    .append(" | ").append(teacher ? "" : count(m.get(model + ".sampled-completions")))
                    .append(" | ").append(cell(Metrics.SECONDS, m.get(model + "." + Metrics.SECONDS))).append(" |\n");
        }
        Double before = m.get(DistillationStage.ONPOLICY_STUDENT + ".probe-reverse-kl-before");
        if (before != null) {
            sb.append(String.format(Locale.ROOT, "%nOn-policy distillation: %.0f updates from the distilled student, %.0f completions "
                            + "(%.0f tokens) sampled; reverse KL to the teacher per token on held-out prompts %.4f -> %.4f, on the "
                            + "training rollouts %.4f -> %.4f (first and last tenth of updates).%n",
                    m.getOrDefault(DistillationStage.ONPOLICY_STUDENT + ".onpolicy-updates", Double.NaN),
                    m.getOrDefault(DistillationStage.ONPOLICY_STUDENT + ".sampled-completions", Double.NaN),
                    m.getOrDefault(DistillationStage.ONPOLICY_STUDENT + ".sampled-tokens", Double.NaN), before,
                    m.getOrDefault(DistillationStage.ONPOLICY_STUDENT + ".probe-reverse-kl-after", Double.NaN),
                    m.getOrDefault(DistillationStage.ONPOLICY_STUDENT + ".first-reverse-kl", Double.NaN),
                    m.getOrDefault(DistillationStage.ONPOLICY_STUDENT + ".final-reverse-kl", Double.NaN)));
        }
        return sb.append('\n').toString();
    }

    private static String count(Double v) {
        return v == null || v.isNaN() ? "-" : String.format(Locale.ROOT, "%,.0f", v);
    }

    private static String markdown(List<Row> rows, Map<String, StageResult> results, Path pipelineDir, String command) {
        StringBuilder sb = new StringBuilder("# R1 pipeline report\n\n");
        if (command != null) {
            sb.append("Command: `").append(command).append("`\n\n");
        }
        sb.append("| stage |");
        COLUMNS.values().forEach(h -> sb.append(' ').append(h).append(" |"));
        sb.append("\n| --- |");
        COLUMNS.keySet().forEach(h -> sb.append(" ---: |"));
        sb.append('\n');
        for (Row r : rows) {
            sb.append("| ").append(r.name()).append(" |");
            COLUMNS.keySet().forEach(k -> sb.append(' ').append(cell(k, r.figures().get(k))).append(" |"));
            sb.append('\n');
        }
        sb.append("\nAccuracy is greedy, on the same held-out problems for every stage; rates are shares of those ")
                .append("completions; seconds is the stage's (or model's) wall time.\n\n");
        StageResult distillation = results.get(DistillationStage.NAME);
        if (distillation != null) {
            sb.append(distillationBudgets(distillation.metrics()));
        }
        sb.append("## Artifacts\n\n");
        for (StageResult r : results.values()) {
            r.artifacts().forEach((name, p) -> sb.append("- ").append(r.stage()).append(" `").append(name).append("`: ")
                    .append(pipelineDir == null ? p : pipelineDir.toAbsolutePath().relativize(p.toAbsolutePath()))
                    .append(Files.exists(p) ? "" : " (missing)").append('\n'));
        }
        sb.append("\n## Every figure\n\n");
        for (StageResult r : results.values()) {
            sb.append("- **").append(r.stage()).append("**: ");
            List<String> parts = new ArrayList<>();
            new TreeMap<>(r.metrics()).forEach((k, v) -> parts.add(k + " = " + String.format(Locale.ROOT, "%.4g", v)));
            sb.append(String.join(", ", parts)).append('\n');
        }
        sb.append("\nPlots: [accuracy.png](accuracy.png), [rates.png](rates.png), [seconds.png](seconds.png). ")
                .append("All figures: metrics.csv (stage,name,value).\n");
        return sb.toString();
    }
}
