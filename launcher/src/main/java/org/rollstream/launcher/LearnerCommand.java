package org.rollstream.launcher;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.LearnerService;
import org.rollstream.learner.report.RunReport;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.schemas.Topics;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.TopicAdmin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "learner", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the learner alone: cold-start SFT, then GRPO on rollouts.scored, publishing policy versions, prompts, metrics and checkpoints.",
                "Actors and a scorer must run against the same cluster.",
                "A --run-dir with checkpoints resumes from the latest one."})
final class LearnerCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Mixin
    TrainingOptions training;

    @Mixin
    WeightStoreOptions weights;

    @Mixin
    SigningOptions signing;

    @Override
    public Integer call() {
        KafkaSettings settings = kafka.requiredSettings("learner");
        LearnerConfig config = training.learnerConfig();
        var weightSettings = weights.settings(signing.signer());
        RunCommand.checkDataset(config);
        settings.verifyReachable(Duration.ofSeconds(15));
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopics(Topics.all(4));
        }
        try (LearnerService learner = new LearnerService(settings, config, CharTokenizer.builtin(), TaskRegistry.defaults(),
                Operations.metrics().learnerListener().andThen(
                        e -> System.out.println(e.getKind() + " step " + e.getStep() + " " + e.getValues()))).weights(weightSettings)) {
            GracefulStop.install("learner", learner::stop, Duration.ofMinutes(2));
            LearnerService.Summary s = learner.run();
            Path report = config.runDir().resolve("report");
            List<Path> files = RunReport.write(report, config.metricsCsv(), s.metrics(),
                    RunCommand.summary(config, s, null));
            System.out.println("learner " + (s.complete() ? "done" : "stopped") + ": " + s.steps() + " steps; report in "
                    + report.toAbsolutePath() + " (" + files.size() + " files)"
                    + (s.complete() ? "" : "; start it again with the same --run-dir to resume"));
        }
        return 0;
    }
}
