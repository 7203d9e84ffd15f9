package org.rollstream.launcher;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.rollstream.launcher.pipeline.DistillationStage;
import org.rollstream.launcher.pipeline.Metrics;
import org.rollstream.launcher.pipeline.Pipeline;
import org.rollstream.launcher.pipeline.PipelineException;
import org.rollstream.launcher.pipeline.PipelineReport;
import org.rollstream.launcher.pipeline.Stage;
import org.rollstream.launcher.pipeline.StageResult;
import org.rollstream.transport.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "pipeline", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"R1's distillation finding, measured: the whole pipeline once per seed (in <dir>/seed-<N>, resumed if",
                "there), then held-out accuracy of the teacher (the stage-4 policy), the student distilled from it by SFT,",
                "the same student preset trained by cold start + GRPO with as many updates, and (--on-policy-distill) the",
                "on-policy distilled student; and whether the distilled student beats the RL student on every seed."})
final class PipelineBench implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Option(names = "--seeds", defaultValue = "3", description = "Seeds 1..N, one pipeline each (default: ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--scale", defaultValue = "1.0", description = "The pipeline's --scale (default: ${DEFAULT-VALUE}).")
    double scale;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "bench-pipeline", description = "Where the pipelines go (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--on-policy-distill", description = {"Include the on-policy distilled student. A seed whose saved",
            "distillation result lacks it gets just that, from the saved distilled student."})
    boolean onPolicyDistill;

    @Mixin
    OnPolicyRateOption onPolicyRate;

    /** One seed's row. */
    record Row(long seed, double teacher, double student, double rlStudent, double onPolicy, double studentSeconds,
               double rlSeconds) {
        boolean distilledWins() {
            return student > rlStudent;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (seeds < 1) {
            throw new UsageException("--seeds must be at least 1, got " + seeds);
        }
        if (!(scale > 0) || scale > 10) {
            throw new UsageException("--scale must be in (0, 10], got " + scale);
        }
        // the stages hold settings only, so every seed can share them; a bad --on-policy-rate fails before any broker
        List<Stage> r1 = onPolicyRate.stages(onPolicyDistill);
        List<Row> rows = new ArrayList<>();
        try (KafkaOptions.Cluster cluster = kafka.clusterOrEmbedded(dir.resolve("kafka"), true)) {
            KafkaSettings settings = cluster.settings();
            for (long seed = 1; seed <= seeds; seed++) {
                Path seedDir = dir.resolve("seed-" + seed);
                System.out.printf(Locale.ROOT, "== seed %d of %d: pipeline in %s%n", seed, seeds, seedDir.toAbsolutePath());
                List<Stage> stages = new ArrayList<>(r1);
                // a finished seed without the on-policy student gets just that, from its saved distilled student
                stages.replaceAll(st -> st instanceof DistillationStage d ? d.reusingSaved() : st);
                Pipeline pipeline = new Pipeline(stages, seedDir);
                Map<String, StageResult> results;
                try {
                    results = pipeline.run(selection(seedDir), () -> settings, seed, scale, System.out);
                } catch (PipelineException e) {
                    throw new UsageException(e.getMessage());
                }
                PipelineReport.write(seedDir.resolve("report"), results,
                        "rollstream pipeline --dir " + seedDir + " --seed " + seed + " --scale " + scale
                                + (onPolicyDistill ? " --on-policy-distill" : "")
                                + onPolicyRate.flag());
                Map<String, Double> m = results.get(DistillationStage.NAME).metrics();
                rows.add(new Row(seed, m.get(key(DistillationStage.TEACHER)), m.get(key(DistillationStage.STUDENT)),
                        m.get(key(DistillationStage.RL_STUDENT)), m.getOrDefault(key(DistillationStage.ONPOLICY_STUDENT), Double.NaN),
                        m.get(DistillationStage.STUDENT + "." + Metrics.SECONDS), m.get(DistillationStage.RL_STUDENT + "." + Metrics.SECONDS)));
            }
        }
        System.out.println();
        System.out.print(table(rows, onPolicyDistill));
        boolean all = rows.stream().allMatch(Row::distilledWins);
        System.out.printf(Locale.ROOT, "distilled student > RL student on every seed: %s (%d of %d)%n", all ? "yes" : "no",
                rows.stream().filter(Row::distilledWins).count(), rows.size());
        return 0;
    }

    /**
     * Every stage, completed ones resumed; but a saved distillation result without the on-policy student
     * when {@code --on-policy-distill} asks for one runs the distillation stage again (stages 1–4 are reused).
     */
    private Pipeline.Selection selection(Path seedDir) {
        StageResult saved = onPolicyDistill ? StageResult.load(seedDir.resolve(DistillationStage.NAME)) : null;
        if (saved != null && !saved.metrics().containsKey(key(DistillationStage.ONPOLICY_STUDENT))) {
            System.out.println("[bench] the saved distillation result in " + seedDir
                    + " has no on-policy student: running stage distillation again for it (stages 1-4 reused)");
            return new Pipeline.Selection(Set.of(), DistillationStage.NAME, Set.of());
        }
        return Pipeline.Selection.all();
    }

    private static String key(String model) {
        return model + "." + Metrics.ACCURACY;
    }

    /** The Markdown table the README quotes. */
    static String table(List<Row> rows, boolean onPolicy) {
        StringBuilder sb = new StringBuilder("| seed | teacher | distilled student | RL student |");
        sb.append(onPolicy ? " on-policy distilled |" : "").append(" distilled > RL | student s | RL student s |\n");
        sb.append("| ---: | ---: | ---: | ---: |").append(onPolicy ? " ---: |" : "").append(" :---: | ---: | ---: |\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %d | %s | %s | %s |", r.seed(), pct(r.teacher()), pct(r.student()),
                    pct(r.rlStudent())));
            if (onPolicy) {
                sb.append(' ').append(pct(r.onPolicy())).append(" |");
            }
            sb.append(String.format(Locale.ROOT, " %s | %.0f | %.0f |%n", r.distilledWins() ? "yes" : "no", r.studentSeconds(),
                    r.rlSeconds()));
        }
        return sb.toString();
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }
}
