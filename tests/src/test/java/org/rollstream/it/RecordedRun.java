package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rollstream.actor.ActorConfig;
import org.rollstream.launcher.LocalRun;
import org.rollstream.launcher.Rollstream;
import org.rollstream.learner.ColdStart;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.LearnerService;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.policy.ModelSpec;
import org.rollstream.reward.service.ScorerConfig;
import org.rollstream.transport.KafkaSettings;

/**
 * One small recorded run shared by the debugging-tool tests of a test JVM (recorded once: the CPU is
 * shared): tiny model, no cold start, B = 4 groups of G = 4, 4 GRPO steps, a checkpoint every 2 steps
 * (kept: steps 2 and 4), the learner with one libtorch thread (the deterministic mode). An untrained
 * model is never accurate; the overlong penalty (-1 when cut off at 16 tokens, 0 when it stopped early)
 * gives its groups differing rewards, so the steps have real advantages and gradients.
 */
final class RecordedRun {
    static final int B = 4;
    static final int STEPS = 4;
    static final String REWARDS = "accuracy=1.0,format=0.1,length=1.0";
    static final int MAX_NEW_TOKENS = 16;
    private static Path runDir;
    private static LearnerService.Summary summary;

    private RecordedRun() {
    }

    /** The run's directory, recording it on {@code kafka} on first use. */
    static synchronized Path get(KafkaSettings kafka) {
        if (runDir != null) {
            return runDir;
        }
        try {
            Path dir = Files.createTempDirectory("rollstream-recorded-run").resolve("run");
            ActorConfig actor = ActorConfig.defaults("recorded-actor").withPolicyName("policy-recorded")
                    .withSampling(4, 1.0f, 1.0f, MAX_NEW_TOKENS).withPromptsPerBatch(4).withSeed(5);
            Engine.getInstance();
            int threads = JniUtils.getNumThreads();
            JniUtils.setNumThreads(1); // bit-identity needs the run and the replay on equal thread counts
            try {
                summary = LocalRun.run(kafka, config(dir), actor, 1, ScorerConfig.defaults("recorded-scorer")
                        .withMaxNewTokens(MAX_NEW_TOKENS).withRewards(REWARDS), 4, null, null, false).learner();
            } finally {
                JniUtils.setNumThreads(threads);
            }
            assertEquals(STEPS, summary.steps());
            runDir = dir;
            return runDir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static LearnerService.Summary summary() {
        return summary;
    }

    static LearnerConfig config(Path runDir) {
        // dynamic sampling off: every group counts, whatever its rewards
        GrpoConfig grpo = GrpoConfig.builder().groupsPerStep(B).maxStaleness(1).klBeta(0.02).dynamicSampling(false)
                .learningRate(1e-3).build();
        return new LearnerConfig(runDir, "recorded", "policy-recorded", ModelSpec.preset("tiny"), "arithmetic", 3,
                ColdStart.none(), grpo, STEPS, 100, 10, 2, MAX_NEW_TOKENS, 60_000, null, null);
    }

    record Outcome(int code, String out, String err) {
    }

    /** Runs the {@code rollstream} command line in-process, capturing its output (and echoing it to the log). */
    static Outcome cli(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Rollstream.execute(args);
            return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.out.print(out.toString(StandardCharsets.UTF_8));
            System.out.print(err.toString(StandardCharsets.UTF_8));
        }
    }
}
