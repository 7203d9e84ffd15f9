package org.rollstream.launcher;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.LearnerService;
import org.rollstream.learner.report.RunReport;
import org.rollstream.tasks.JsonlDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs everything on one machine: an embedded Kafka broker (or --bootstrap-servers), cold-start SFT, then GRPO with actors, scorer and learner in one process talking over Kafka.",
                "Shows a live progress line and ends with a summary table and a report folder (metrics CSV and PNG plots)."})
final class RunCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Mixin
    TrainingOptions training;

    @Mixin
    RoleOptions roles;

    @Mixin
    WeightStoreOptions weights;

    @Option(names = "--actors", defaultValue = "1", description = "Actor threads sharing the prompts (default: ${DEFAULT-VALUE}).")
    int actors;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of the data topics (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Override
    public Integer call() {
        LearnerConfig config = training.learnerConfig();
        roles.validate();
        checkDataset(config); // before a broker starts: a bad file is the first thing to hear about
        if (actors < 1) {
            throw new UsageException("--actors must be at least 1, got " + actors);
        }
        if (partitions < 1) {
            throw new UsageException("--partitions must be at least 1, got " + partitions);
        }
        // --init-weights replaces the cold start (the learner starts from that file), so say which one the run does
        String start = config.initWeights() != null ? "starting from " + config.initWeights() + " (no cold start)"
                : config.coldStart().steps() + " cold-start SFT steps";
        System.out.printf("rollstream run: task %s, preset %s, %s, %d GRPO steps, B=%d, G=%d, η=%d, run dir %s%n",
                config.task(), training.preset, start, config.grpoSteps(), config.grpo().groupsPerStep(),
                roles.groupSize, config.grpo().maxStaleness(), config.runDir().toAbsolutePath());
        try (KafkaOptions.Cluster cluster = kafka.clusterOrEmbedded(config.runDir().resolve("kafka"), true)) {
            boolean console = System.console() != null;
            LocalRun.Result result = LocalRun.run(cluster.settings(), config,
                    roles.actorConfig("actor", config.policyName(), config.maxNewTokens(), config.seed()), actors,
                    roles.scorerConfig("scorer", config.maxNewTokens()), partitions, System.out,
                    Duration.ofSeconds(console ? 1 : 10), console,
                    learner -> {
                        learner.weights(weights.settings());
                        GracefulStop.install("rollstream run", learner::stop, Duration.ofMinutes(2));
                    });
            Map<String, String> summary = summary(config, result.learner(), result);
            Path reportDir = config.runDir().resolve("report");
            List<Path> files = RunReport.write(reportDir, config.metricsCsv(), result.learner().metrics(), summary);
            System.out.println();
            System.out.println("Summary");
            System.out.print(RunReport.table(summary));
            System.out.println("Report: " + reportDir.toAbsolutePath() + " (" + files.size() + " files)");
            if (!result.learner().complete()) {
                System.out.println("Stopped at step " + result.learner().steps() + " of " + config.grpoSteps()
                        + "; a checkpoint is saved: run the same command with --run-dir " + config.runDir()
                        + " to resume.");
            }
            return 0;
        }
    }

    /** Reads the user's dataset once up front, so a bad file is a usage error before anything starts. */
    static void checkDataset(LearnerConfig config) {
        if (config.dataset() != null) {
            JsonlDataset.read(config.dataset());
        }
    }

    /** The summary table; {@code r} is null when only the learner ran in this process. */
    static Map<String, String> summary(LearnerConfig config, LearnerService.Summary s, LocalRun.Result r) {
        Map<String, String> m = RunReport.newSummary();
        m.put("task", config.task());
        m.put("GRPO steps", Long.toString(s.steps()));
        m.put("held-out accuracy after cold start", pct(s.coldStartAccuracy()));
        m.put("held-out accuracy at the end", pct(s.finalAccuracy()));
        m.put("mean reward, first " + LearnerService.REWARD_WINDOW + " steps", num(s.firstReward()));
        m.put("mean reward, last " + LearnerService.REWARD_WINDOW + " steps", num(s.lastReward()));
        if (r != null) {
            m.put("groups sampled / scored", r.groupsSampled() + " / " + r.groupsScored());
        }
        m.put("groups dropped as stale (η=" + config.grpo().maxStaleness() + ")", Long.toString(s.dropped()));
        m.put("duplicate groups skipped", Long.toString(s.duplicates()));
        m.put("uninformative groups skipped", Long.toString(s.skipped()));
        m.put("prompts timed out (no group within the timeout)", Long.toString(s.timedOutPrompts()));
        m.put("prompts dropped as invalid (group dead-lettered)", Long.toString(s.invalidPrompts()));
        m.put("prompts still open at the end", Long.toString(s.runEnded()));
        m.put("prompts trained", Long.toString(s.groupsTrained()));
        if (s.restarts() > 0) {
            m.put("resumed", s.restarts() + " time(s), " + String.format(Locale.ROOT, "%.1f s", s.resumeSeconds() / s.restarts())
                    + " mean to resume");
        }
        m.put("run id", s.runId() + " (incarnation " + s.incarnation() + ")");
        if (r != null) {
            m.put("dead-lettered groups", Long.toString(r.deadLettered()));
            m.put("tokens generated", Long.toString(r.tokensGenerated()));
        }
        m.put("wall time", String.format(Locale.ROOT, "%.1f s", s.seconds()));
        return m;
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
    }
}
