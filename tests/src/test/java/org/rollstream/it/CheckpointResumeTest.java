package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.actor.ActorConfig;
import org.rollstream.launcher.LocalRun;
import org.rollstream.learner.ColdStart;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.grpo.Aggregation;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.policy.ModelSpec;
import org.rollstream.reward.service.ScorerConfig;
import org.rollstream.schemas.records.MetricEvent;
import org.rollstream.transport.KafkaSettings;

/** A learner stopped after a checkpoint resumes from it: same run, next step, nothing trained twice. */
@ExtendWith(KafkaBrokerExtension.class)
class CheckpointResumeTest {
    @TempDir
    Path dir;

    private LearnerConfig config(int steps) {
        // dynamic sampling off: an untrained model scores 0 everywhere, and every group must still count
        GrpoConfig grpo = new GrpoConfig(4, 1, 0.2, 0.28, 0.02, 2.0, Aggregation.TOKEN_MEAN, false, 1e-4, 0.0, 1.0, 1);
        return new LearnerConfig(dir.resolve("run"), "resume", "policy-resume", ModelSpec.preset("tiny"), "arithmetic", 3,
                ColdStart.none(), grpo, steps, 100, 20, 2, 16, 60_000, null, null);
    }

    private LocalRun.Result run(KafkaSettings kafka, int steps) {
        ActorConfig actor = ActorConfig.defaults("resume-actor").withPolicyName("policy-resume")
                .withSampling(4, 1.0f, 1.0f, 16).withPromptsPerBatch(4).withSeed(5);
        return LocalRun.run(kafka, config(steps), actor, 1, ScorerConfig.defaults("resume-scorer").withMaxNewTokens(16),
                4, null, null, false);
    }

    private static List<Long> trainSteps(List<MetricEvent> events) {
        return events.stream().filter(e -> "train".equals(e.getKind())).map(MetricEvent::getStep).toList();
    }

    @Test
    void resumesFromTheLatestCheckpoint(KafkaSettings kafka) throws Exception {
        LocalRun.Result first = run(kafka, 4);
        assertEquals(4, first.learner().steps());
        Path checkpoints = dir.resolve("run/checkpoints");
        try (Stream<Path> s = Files.list(checkpoints)) {
            assertEquals(List.of("step-00000002", "step-00000004"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertTrue(Files.exists(checkpoints.resolve("step-00000004/optimizer.safetensors")));
        assertTrue(Files.exists(checkpoints.resolve("step-00000004/state.json")));

        LocalRun.Result second = run(kafka, 6);
        assertEquals(6, second.learner().steps());
        assertEquals(List.of(5L, 6L), trainSteps(second.learner().metrics()), "the resumed run continues at step 5");
        try (Stream<Path> s = Files.list(checkpoints)) {
            assertEquals(List.of("step-00000004", "step-00000006"),
                    s.map(p -> p.getFileName().toString()).sorted().toList(), "the last two checkpoints are kept");
        }
    }
}
