package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rollstream.actor.ActorConfig;
import org.rollstream.launcher.LocalRun;
import org.rollstream.launcher.chaos.LogReader;
import org.rollstream.learner.ColdStart;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.LearnerService;
import org.rollstream.learner.grpo.Aggregation;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ModelSpec;
import org.rollstream.reward.GroupAdvantages;
import org.rollstream.reward.service.ScorerConfig;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.AuditEntry;
import org.rollstream.schemas.records.AuditKind;
import org.rollstream.schemas.records.StepAudit;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.TopicAdmin;

/**
 * The acceptance test of the loop: from one cold-start checkpoint, GRPO over Kafka (actors, scorer
 * and learner as separate services) raises the learner's own held-out accuracy on arithmetic by at
 * least a quarter of the distance to 100% (at least +15 points from a cold start of 40% or less; the end
 * is the mean of the last three evaluations), synchronously (η = 0) and asynchronously (η = 2).
 *
 * <p>The cold start is seeded (model init, data, data order) but not bit-reproducible across JVMs:
 * libtorch on CPU gave different SFT losses for the same seed (with two intra-op threads an
 * isolated 300-step SFT run diverged from step 75; with one thread it repeated bit for bit, yet
 * this whole test with one thread still measured 24.3% and 22.3% in two runs, probably because
 * the bundled oneMKL picks kernels by memory alignment). The gain is therefore measured against
 * the cold start of the same run, never a stored figure.
 *
 * <p>Staleness is checked from the log, not from the learner's own figure (which covers only groups
 * its gate admitted): every group each step trained, as {@code learner.audit} names it with the version
 * the actor stamped on it, against the version that step trained from.
 */
@ExtendWith(KafkaBrokerExtension.class)
class GrpoLearningTest {
    static final int SFT_STEPS = Integer.getInteger("rollstream.test.sftSteps", 2000);
    static final int GRPO_STEPS = Integer.getInteger("rollstream.test.grpoSteps", 90);

    @TempDir
    static Path dir;
    static Path coldStart;
    static double coldAccuracy;

    static LearnerConfig config(Path runDir, String runId, int eta, int sftSteps, int grpoSteps, Path init) {
        GrpoConfig grpo = GrpoConfig.builder().groupsPerStep(8).maxStaleness(eta).clipLow(0.2).clipHigh(0.28)
                .klBeta(0.005).importanceCap(2.0).aggregation(Aggregation.TOKEN_MEAN).dynamicSampling(true)
                .learningRate(1e-4).weightDecay(0.0).maxGradNorm(1.0).publishEvery(1).miniBatches(1).ppoEpochs(1)
                .build();
        ColdStart coldStart = sftSteps == 0 ? ColdStart.none() : new ColdStart(sftSteps, 32, 2e-3, 0.05, 0.55);
        return new LearnerConfig(runDir, runId, "policy-" + runId, ModelSpec.preset("tiny"), "arithmetic", 7,
                coldStart, grpo, grpoSteps, 20, 400, 20, 48, 60_000, init, null);
    }

    @BeforeAll
    static void coldStart(KafkaSettings kafka) throws Exception {
        try (TopicAdmin admin = new TopicAdmin(kafka)) {
            admin.ensureTopics(Topics.all(4));
        }
        LearnerConfig cfg = config(dir.resolve("cold"), "cold", 0, SFT_STEPS, 0, null);
        try (LearnerService learner = new LearnerService(kafka, cfg, CharTokenizer.builtin(), TaskRegistry.defaults(), null)) {
            LearnerService.Summary s = learner.run();
            coldAccuracy = s.coldStartAccuracy();
        }
        coldStart = cfg.weightsDir().resolve("v000000.safetensors");
        assertTrue(Files.exists(coldStart), "the cold start publishes version 0");
        System.out.printf(Locale.ROOT, "cold start: %d SFT steps, held-out accuracy %.1f%%%n", SFT_STEPS, 100 * coldAccuracy);
    }

    @ParameterizedTest(name = "η = {0}")
    @ValueSource(ints = {0, 2})
    // a guard against hangs, not a speed bar: 60 steps took over 5 minutes on a loaded 2-core machine
    @Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
    void grpoRaisesHeldOutAccuracy(int eta, KafkaSettings kafka) {
        String runId = "eta" + eta;
        LearnerConfig cfg = config(dir.resolve(runId), runId, eta, 0, GRPO_STEPS, coldStart);
        ActorConfig actor = ActorConfig.defaults("it-actor-" + eta).withPolicyName(cfg.policyName())
                .withSampling(8, 1.0f, 1.0f, 48).withPromptsPerBatch(8).withSeed(11);
        ScorerConfig scorer = ScorerConfig.defaults("it-scorer").withRewards("accuracy=1.0,format=0.1")
                .withAdvantageMode(GroupAdvantages.Mode.GRPO).withMaxNewTokens(48);
        LocalRun.Result r = LocalRun.run(kafka, cfg, actor, 1, scorer, 4, System.out, Duration.ofSeconds(15), false);
        LearnerService.Summary s = r.learner();
        System.out.printf(Locale.ROOT, "η=%d: held-out accuracy %.1f%% -> %.1f%% in %d steps, %.1f s; dropped %d stale, %d duplicates%n",
                eta, 100 * s.coldStartAccuracy(), 100 * s.finalAccuracy(), s.steps(), s.grpoSeconds(), s.dropped(), s.duplicates());

        assertEquals(GRPO_STEPS, s.steps());
        assertEquals(coldAccuracy, s.coldStartAccuracy(), 1e-9, "both settings start from the same checkpoint");
        assertTrainedWithinStaleness(kafka, s, eta);
        // a quarter of the way from the cold start to 100%: +19 points from a 25% cold start, +15 from 40%, +13 from
        // 48%; with 400 problems one evaluation's standard error is at most 2.5 points, so a learner that does not
        // learn stays far below. The cold start is not bit-reproducible and lands anywhere from about 17% to 48%; a
        // fixed +20 was a coin toss near the top of that range and lax near the bottom, where most runs start. The bar
        // was a third until 16 runs in CI (8 fresh clones, both η) closed 31%-61% of the gap (median 50%) and two
        // of them closed 31% and 33%: a bar a correct learner misses one run in eight says nothing about the learner.
        // where the run ended: the mean of its last three evaluations (steps 60, 80, 90), not the last alone;
        // one evaluation of a policy still moving swung by 6-9 points between steps 80 and 90 (60.8%, 57.8%, 52.0%)
        List<Double> grpoEvals = s.metrics().stream()
                .filter(e -> "eval".equals(e.getKind()) && e.getStep() > 0)
                .map(e -> e.getValues().get("heldout_accuracy")).filter(java.util.Objects::nonNull).toList();
        assertTrue(grpoEvals.size() >= 3, "evaluations every 20 steps and at the end: " + grpoEvals);
        List<Double> late = grpoEvals.subList(grpoEvals.size() - 3, grpoEvals.size());
        double end = late.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double closed = (end - s.coldStartAccuracy()) / (1 - s.coldStartAccuracy());
        assertTrue(closed >= 1.0 / 4, String.format(Locale.ROOT,
                "GRPO must close a quarter of the gap to 100%%: %.1f%% -> %.1f%% (last three evaluations %s) closes %.0f%%",
                100 * s.coldStartAccuracy(), 100 * end, late, 100 * closed));
    }

    /**
     * Every trained group, as the audit log names it, was sampled at most η versions before the version
     * its step trained from (one incarnation, a version per step: the step that ends at version v trained
     * from v − 1).
     */
    static void assertTrainedWithinStaleness(KafkaSettings kafka, LearnerService.Summary s, int eta) {
        List<StepAudit> audits = new LogReader(kafka).readAll(Topics.LEARNER_AUDIT, StepAudit.class, Duration.ofSeconds(30))
                .records().stream().filter(a -> a.getRunId().equals(s.runId()) && a.getKind() == AuditKind.STEP).toList();
        assertEquals(s.steps(), audits.size(), "one audit record per step");
        long trained = 0;
        long maxStaleness = 0;
        for (StepAudit a : audits) {
            long trainedFrom = a.getPolicyVersion() - 1;
            for (AuditEntry e : a.getTrained()) {
                long staleness = trainedFrom - e.getPolicyVersion();
                assertTrue(staleness >= 0 && staleness <= eta, "step " + a.getStep() + " trained " + e.getGroupId()
                        + " sampled by v" + e.getPolicyVersion() + " while training from v" + trainedFrom + " (η=" + eta + ")");
                maxStaleness = Math.max(maxStaleness, staleness);
                trained++;
            }
        }
        assertEquals(s.groupsTrained(), trained, "the audit log names every trained group");
        System.out.printf(Locale.ROOT, "η=%d: %d trained groups checked from the audit log, max staleness %d%n", eta, trained,
                maxStaleness);
    }
}
