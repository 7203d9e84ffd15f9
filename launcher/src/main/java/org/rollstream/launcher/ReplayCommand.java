package org.rollstream.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.learner.replay.ReplayException;
import org.rollstream.learner.replay.ReplayReport;
import org.rollstream.learner.replay.StepReplayer;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.schemas.serde.RecordDecodeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Re-executes recorded learner steps from the run's checkpoint on exactly the groups they trained "
                + "(from learner.audit and rollouts.scored) and compares loss, gradient norm, KL and clip fraction "
                + "with the run's metrics.csv.",
                "Exit code: 0 when every value matches, 1 when some differ, 2 for bad input (no such run, no "
                        + "checkpoint before the range, missing audit records or groups)."})
final class ReplayCommand implements Callable<Integer> {
    /** Absolute slack added to the relative tolerance, for values recorded as (nearly) 0. */
    static final double DEFAULT_ABSOLUTE = 1e-7;

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--run-dir", required = true, paramLabel = "DIR", description = "The run's directory (checkpoints, metrics.csv; and kafka/ without --bootstrap-servers).")
    Path runDir;

    @Option(names = "--steps", paramLabel = "A..B", description = "Learner steps to re-execute (1 = the first GRPO step), e.g. 5..8 or 7.")
    String steps;

    @Mixin
    TopicRange scored;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N",
            description = "libtorch intra-op threads; 1 (default) is the deterministic CPU mode. Bit-identity needs the run's own thread count.")
    int threads;

    @Option(names = "--exact", description = "Accept only bit-identical values (the deterministic mode's promise for a run trained with as many threads).")
    boolean exact;

    @Option(names = "--tolerance", paramLabel = "REL", description = "Relative tolerance when values are not bit-identical (default: ${DEFAULT-VALUE}).", defaultValue = "1e-4")
    double tolerance;

    @Option(names = "--learning-rate", paramLabel = "LR", description = "What-if: replay with this learning rate instead of the run's.")
    Double learningRate;

    @Option(names = "--kl-beta", paramLabel = "BETA", description = "What-if: replay with this KL beta instead of the run's.")
    Double klBeta;

    @Option(names = "--max-grad-norm", paramLabel = "N", description = "What-if: replay with this gradient clip instead of the run's.")
    Double maxGradNorm;

    @Override
    public Integer call() {
        if (!Files.isDirectory(runDir)) {
            throw new UsageException("run directory " + runDir + " does not exist");
        }
        boolean byRange = scored.partition != null || scored.fromOffset != null || scored.toOffset != null
                || scored.fromTime != null || scored.toTime != null;
        if ((steps == null) == !byRange) {
            throw new UsageException("give either --steps A..B or a range of rollouts.scored (--partition, --from-offset, "
                    + "--to-offset, --from-time, --to-time), not both or neither");
        }
        long[] r = steps == null ? null : RunLog.range(steps, "--steps");
        if (threads < 1) {
            throw new UsageException("--threads must be at least 1, got " + threads);
        }
        if (!(tolerance >= 0)) {
            throw new UsageException("--tolerance must be at least 0, got " + tolerance);
        }
        UnaryOperator<GrpoConfig> override = g -> {
            GrpoConfig.Builder b = g.toBuilder();
            if (learningRate != null) {
                b.learningRate(learningRate);
            }
            if (klBeta != null) {
                b.klBeta(klBeta);
            }
            if (maxGradNorm != null) {
                b.maxGradNorm(maxGradNorm);
            }
            return UsageException.config(b::build);
        };
        ReplayReport.Tolerance tol = exact ? ReplayReport.Tolerance.EXACT
                : new ReplayReport.Tolerance(tolerance, DEFAULT_ABSOLUTE, false);
        try (KafkaOptions.Cluster cluster = RunLog.open(kafka, runDir, "replay")) {
            if (r == null) { // the steps that trained the groups of the range
                Set<String> ids = new HashSet<>();
                AvroCodec<ScoredGroup> codec = AvroCodec.of(ScoredGroup.class);
                scored.read(cluster.settings(), Topics.ROLLOUTS_SCORED, rec -> {
                    try {
                        ids.add(codec.decode(rec.value()).getGroup().getGroupId().toString());
                    } catch (RecordDecodeException e) {
                        // not a group: nothing was trained on it
                    }
                });
                r = StepReplayer.stepsTraining(runDir, cluster.settings(), ids);
                System.out.printf("the range of rollouts.scored holds %d groups, trained by steps %d..%d%n", ids.size(), r[0], r[1]);
            }
            ReplayReport report = StepReplayer.replay(runDir, cluster.settings(),
                    new StepReplayer.Options(r[0], r[1], threads, override, tol));
            report.print(System.out);
            return report.matches() ? 0 : 1;
        } catch (ReplayException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
