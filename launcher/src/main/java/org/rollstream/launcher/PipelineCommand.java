package org.rollstream.launcher;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rollstream.launcher.pipeline.Pipeline;
import org.rollstream.launcher.pipeline.PipelineException;
import org.rollstream.launcher.pipeline.PipelineReport;
import org.rollstream.launcher.pipeline.StageResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "pipeline", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the DeepSeek-R1 pipeline in miniature: reasoning-rl (cold start + GRPO, R1 stages 1-2), "
                + "rejection-sft (stage 3), alignment (stage 4), distillation (stage 5), each stage's roles over Kafka "
                + "(an embedded broker unless --bootstrap-servers).",
                "A stage whose <dir>/<stage>/stage.json exists is skipped, so running again resumes; --only and --from run "
                        + "stages again. Ends with a report in <dir>/report/."})
final class PipelineCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "pipeline", description = "Pipeline directory: one folder per stage, and report/ (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--seed", defaultValue = "7", description = "Seed every stage derives its own from (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--scale", defaultValue = "1.0", description = "Size knob: steps and prompt counts times X; 1.0 is the default miniature, CI uses 0.3 (default: ${DEFAULT-VALUE}).")
    double scale;

    @Option(names = "--only", paramLabel = "STAGE[,STAGE...]", split = ",", description = "Run just these stages, again if they completed before; their inputs must exist.")
    List<String> only = new ArrayList<>();

    @Option(names = "--from", paramLabel = "STAGE", description = "Run this stage (again) and every later one.")
    String from;

    @Option(names = "--skip", paramLabel = "STAGE[,STAGE...]", split = ",", description = "Never run these stages (a later stage still reads their saved output).")
    List<String> skip = new ArrayList<>();

    @Option(names = "--on-policy-distill", description = "Also distil on-policy: the distilled student samples and learns from the teacher's per-token log-probabilities (reverse KL).")
    boolean onPolicyDistill;

    @Mixin
    OnPolicyRateOption onPolicyRate;

    @Override
    public Integer call() throws Exception {
        if (!(scale > 0) || scale > 10) {
            throw new UsageException("--scale must be in (0, 10], got " + scale);
        }
        if (!only.isEmpty() && from != null) {
            throw new UsageException("--only and --from exclude each other");
        }
        Pipeline pipeline = new Pipeline(onPolicyRate.stages(onPolicyDistill), dir);
        Pipeline.Selection selection = new Pipeline.Selection(Pipeline.names(only), from, Pipeline.names(skip));
        System.out.println("rollstream pipeline: stages " + String.join(" → ", pipeline.names()) + ", seed " + seed
                + ", scale " + scale + ", in " + dir.toAbsolutePath());
        KafkaOptions.Cluster[] cluster = new KafkaOptions.Cluster[1];
        try {
            Map<String, StageResult> results = pipeline.run(selection, () -> {
                cluster[0] = kafka.clusterOrEmbedded(dir.resolve("kafka"), true);
                return cluster[0].settings();
            }, seed, scale, System.out);
            Path reportDir = dir.resolve("report");
            List<Path> files = PipelineReport.write(reportDir, results, commandLine());
            System.out.println();
            System.out.print(PipelineReport.table(results));
            System.out.println("Report: " + reportDir.toAbsolutePath() + " (" + files.size() + " files)");
            return 0;
        } catch (PipelineException e) {
            throw new UsageException(e.getMessage());
        } finally {
            if (cluster[0] != null) {
                cluster[0].close();
            }
        }
    }

    private String commandLine() {
        StringBuilder sb = new StringBuilder("rollstream pipeline --dir ").append(dir).append(" --seed ").append(seed)
                .append(" --scale ").append(scale);
        if (!only.isEmpty()) {
            sb.append(" --only ").append(String.join(",", only));
        }
        if (from != null) {
            sb.append(" --from ").append(from);
        }
        if (!skip.isEmpty()) {
            sb.append(" --skip ").append(String.join(",", skip));
        }
        if (onPolicyDistill) {
            sb.append(" --on-policy-distill");
        }
        sb.append(onPolicyRate.flag());
        return sb.toString();
    }
}
