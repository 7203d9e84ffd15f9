package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.actor.ActorConfig;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.launcher.LocalRun;
import org.rollstream.learner.ColdStart;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.policy.ModelSpec;
import org.rollstream.reward.service.ScorerConfig;
import org.rollstream.transport.KafkaSettings;

/**
 * A run recorded, as {@code rollstream run} does, on an embedded broker whose log lives in
 * {@code <run>/kafka} is replayed after that broker is gone, from the run directory alone: replay
 * starts its own broker on the run's log. The run trains with two libtorch threads, as on two cores; a
 * replay with two threads reproduces it bit for bit, one with a single thread within the tolerance.
 */
class ReplayFromRunLogTest {
    @TempDir
    Path dir;

    @Test
    void replaysFromTheRunDirectoryAlone() throws Exception {
        Path run = dir.resolve("run");
        GrpoConfig grpo = GrpoConfig.builder().groupsPerStep(4).maxStaleness(1).klBeta(0.02).dynamicSampling(false)
                .learningRate(1e-3).build();
        LearnerConfig config = new LearnerConfig(run, "own-log", "policy-own-log", ModelSpec.preset("tiny"), "arithmetic",
                4, ColdStart.none(), grpo, 2, 100, 5, 1, RecordedRun.MAX_NEW_TOKENS, 60_000, null, null);
        ActorConfig actor = ActorConfig.defaults("own-log-actor").withPolicyName("policy-own-log")
                .withSampling(4, 1.0f, 1.0f, RecordedRun.MAX_NEW_TOKENS).withPromptsPerBatch(4).withSeed(6);
        Engine.getInstance();
        int threads = JniUtils.getNumThreads();
        try (EmbeddedKafka broker = EmbeddedKafka.start(run.resolve("kafka"))) {
            JniUtils.setNumThreads(2); // as a run on 2 cores trains: bit-identity needs the replay on as many
            LocalRun.run(KafkaSettings.of(broker.bootstrapServers()), config, actor, 1,
                    ScorerConfig.defaults("own-log-scorer").withMaxNewTokens(RecordedRun.MAX_NEW_TOKENS)
                            .withRewards(RecordedRun.REWARDS), 2, null, null, false);
        } finally {
            JniUtils.setNumThreads(threads);
        }
        assertTrue(Files.exists(run.resolve("kafka/meta.properties")));

        RecordedRun.Outcome o = RecordedRun.cli("replay", "--run-dir", run.toString(), "--steps", "2", "--exact",
                "--threads", "2");
        assertEquals(0, o.code(), o.out() + o.err());
        assertTrue(o.out().contains("step 2: 4 groups"), o.out());
        String gradNorm = o.out().lines().filter(l -> l.trim().startsWith("grad_norm")).findFirst().orElseThrow();
        assertTrue(Double.parseDouble(gradNorm.trim().split("\\s+")[1]) > 0, "a real gradient was compared: " + gradNorm);
        assertTrue(o.out().contains("verdict: EXACT"), o.out());

        // with one thread instead of the run's two: not bit-identical in general, within the default tolerance
        RecordedRun.Outcome one = RecordedRun.cli("replay", "--run-dir", run.toString(), "--steps", "2");
        assertEquals(0, one.code(), one.out() + one.err());
    }
}
