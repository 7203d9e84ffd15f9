package org.rollstream.learner.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ModelSpec;

/**
 * GRPO steps move probability towards completions with positive advantage, token by token; PPO
 * mini-batches and epochs measure their ratio against the policy at the start of the step.
 */
class GrpoTrainerTest {
    private static final ModelSpec SPEC = new ModelSpec(16, 32, 1, 2, 16, ModelSpec.Positional.LEARNED, 2);

    private static float logProb(DjlPolicy policy, int[] seq, int position) {
        try (NDManager nd = NDManager.newBaseManager()) {
            NDArray tokens = nd.create(seq, new Shape(1, seq.length));
            return policy.tokenLogProbs(tokens).getFloat(0, position - 1);
        }
    }

    @Test
    void positiveAdvantageGainsProbabilityAndNegativeLoses() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 3);
            DjlPolicy reference = new DjlPolicy(SPEC, nd, policy.exportWeights());
            GrpoConfig cfg = new GrpoConfig(1, 0, 0.2, 0.28, 0.01, 2.0, Aggregation.TOKEN_MEAN, true, 1e-2, 0, 1.0, 1);
            GrpoTrainer trainer = new GrpoTrainer(policy, reference, AdamW.standard(nd, 0), cfg, 0);
            int[] prompt = {1, 7, 8};
            int[] good = {5, 9, 2};
            int[] bad = {6, 9, 2};
            int[] goodSeq = {1, 7, 8, 5, 9, 2};
            int[] badSeq = {1, 7, 8, 6, 9, 2};
            float good0 = logProb(policy, goodSeq, 3);
            float bad0 = logProb(policy, badSeq, 3);
            for (int i = 0; i < 10; i++) {
                float[] lpGood = {logProb(policy, goodSeq, 3), logProb(policy, goodSeq, 4), logProb(policy, goodSeq, 5)};
                float[] lpBad = {logProb(policy, badSeq, 3), logProb(policy, badSeq, 4), logProb(policy, badSeq, 5)};
                TrainingGroup g = new TrainingGroup("g" + i, i, prompt, List.of(good, bad), List.of(lpGood, lpBad),
                        new double[] {1, 0}, new double[] {1, -1});
                trainer.step(List.of(g));
            }
            float good1 = logProb(policy, goodSeq, 3);
            float bad1 = logProb(policy, badSeq, 3);
            assertTrue(good1 > good0 + 0.5, "log p(good first token) " + good0 + " -> " + good1);
            assertTrue(bad1 < bad0 - 0.5, "log p(bad first token) " + bad0 + " -> " + bad1);
        }
    }

    private static final int[] PROMPT = {1, 7, 8};
    private static final double CLIP_LOW = 0.2;
    private static final double CLIP_HIGH = 0.28;

    private static int[] seq(int[] completion) {
        int[] s = new int[PROMPT.length + completion.length];
        System.arraycopy(PROMPT, 0, s, 0, PROMPT.length);
        System.arraycopy(completion, 0, s, PROMPT.length, completion.length);
        return s;
    }

    /** log-probs the policy gives each completion token now: (completion length). */
    private static float[] completionLogProbs(DjlPolicy policy, int[] completion) {
        int[] s = seq(completion);
        try (NDManager nd = NDManager.newBaseManager()) {
            float[] all = policy.tokenLogProbs(nd.create(s, new Shape(1, s.length))).toFloatArray();
            float[] out = new float[completion.length];
            System.arraycopy(all, PROMPT.length - 1, out, 0, completion.length);
            return out;
        }
    }

    /** A group of a good (A=+1) and a bad (A=−1) completion, behaviour = the policy's own log-probs shifted by {@code shift}. */
    private static TrainingGroup group(String id, DjlPolicy policy, int[] good, int[] bad, float shift) {
        float[] lpGood = completionLogProbs(policy, good);
        float[] lpBad = completionLogProbs(policy, bad);
        for (int i = 0; i < lpGood.length; i++) {
            lpGood[i] -= shift;
        }
        for (int i = 0; i < lpBad.length; i++) {
            lpBad[i] -= shift;
        }
        return new TrainingGroup(id, 0, PROMPT, List.of(good, bad), List.of(lpGood, lpBad),
                new double[] {1, 0}, new double[] {1, -1});
    }

    private static GrpoConfig ppo(int groups, int miniBatches, int epochs, double lr, double cap) {
        return GrpoConfig.builder().groupsPerStep(groups).maxStaleness(0).clipLow(CLIP_LOW).clipHigh(CLIP_HIGH)
                .klBeta(0).importanceCap(cap).learningRate(lr).maxGradNorm(1.0).miniBatches(miniBatches)
                .ppoEpochs(epochs).build();
    }

    @Test
    void oneMiniBatchAndOneEpochKeepTheRatioExactlyOne() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 3);
            GrpoTrainer trainer = new GrpoTrainer(policy, null, AdamW.standard(nd, 0), ppo(2, 1, 1, 5e-2, 2.0), 0);
            GrpoTrainer.StepStats s = trainer.step(List.of(group("a", policy, new int[] {5, 9, 2}, new int[] {6, 9, 2}, 0),
                    group("b", policy, new int[] {5, 10, 2}, new int[] {4, 10, 2}, 0)));
            assertEquals(1, s.optimizerSteps());
            assertEquals(1, s.updates().size());
            assertEquals(1.0, s.ratioMin(), 0.0, "π_prox is the policy being trained, bit for bit");
            assertEquals(1.0, s.ratioMax(), 0.0);
            assertEquals(0.0, s.clipFraction(), 0.0);
            assertEquals(12, s.completionTokens());
        }
    }

    /**
     * Two mini-batches of one group each: the second sees the policy moved by the first update, and
     * its ratios must be exactly those of an independent copy that made only that first update,
     * measured against the start-of-step policy. The clip fraction follows from those ratios.
     */
    @Test
    void theSecondMiniBatchSeesAMovedPolicyAndClips() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 3);
            DjlPolicy copy = new DjlPolicy(SPEC, nd, policy.exportWeights());
            int[] good2 = {5, 10, 2};
            int[] bad2 = {6, 10, 2};
            TrainingGroup g1 = group("a", policy, new int[] {5, 9, 2}, new int[] {6, 9, 2}, 0);
            TrainingGroup g2 = group("b", policy, good2, bad2, 0);
            float[] start2Good = completionLogProbs(policy, good2);
            float[] start2Bad = completionLogProbs(policy, bad2);

            double lr = 5e-2; // large, so one update moves the second mini-batch's tokens past the clip
            GrpoTrainer trainer = new GrpoTrainer(policy, null, AdamW.standard(nd, 0), ppo(2, 2, 1, lr, 2.0), 0);
            GrpoTrainer.StepStats s = trainer.step(List.of(g1, g2));

            // the independent copy makes only the first mini-batch's update
            new GrpoTrainer(copy, null, AdamW.standard(nd, 0), ppo(1, 1, 1, lr, 2.0), 0).step(List.of(g1));
            float[] moved2Good = completionLogProbs(copy, good2);
            float[] moved2Bad = completionLogProbs(copy, bad2);
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            int active = 0;
            for (int i = 0; i < good2.length; i++) {
                double rGood = Math.exp(moved2Good[i] - start2Good[i]);
                double rBad = Math.exp(moved2Bad[i] - start2Bad[i]);
                min = Math.min(min, Math.min(rGood, rBad));
                max = Math.max(max, Math.max(rGood, rBad));
                active += rGood > 1 + CLIP_HIGH ? 1 : 0; // A = +1 clips above
                active += rBad < 1 - CLIP_LOW ? 1 : 0; // A = −1 clips below
            }
            double expectedClip = active / 6.0;

            assertEquals(2, s.optimizerSteps());
            GrpoTrainer.UpdateStats first = s.updates().get(0);
            GrpoTrainer.UpdateStats second = s.updates().get(1);
            assertEquals(1.0, first.ratioMin(), 0.0);
            assertEquals(1.0, first.ratioMax(), 0.0);
            assertEquals(0.0, first.clipFraction(), 0.0);
            assertEquals(min, second.ratioMin(), 1e-4);
            assertEquals(max, second.ratioMax(), 1e-4);
            assertNotEquals(1.0, second.ratioMax(), 1e-3, "the second mini-batch sees a moved policy");
            assertTrue(active > 0, "the first update must move some token past the clip: ratios " + min + ".." + max);
            assertEquals(expectedClip, second.clipFraction(), 1e-6);
            assertEquals(expectedClip / 2, s.clipFraction(), 1e-6, "token-weighted over both updates");
            System.out.printf("M=2, E=1, lr %.0e: second mini-batch ratio %.4f..%.4f, clip fraction %.3f; step clip fraction %.3f%n",
                    lr, second.ratioMin(), second.ratioMax(), second.clipFraction(), s.clipFraction());
        }
    }

    @Test
    void aSecondEpochSeesTheMovedPolicyToo() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 3);
            GrpoTrainer trainer = new GrpoTrainer(policy, null, AdamW.standard(nd, 0), ppo(1, 1, 2, 5e-2, 2.0), 0);
            GrpoTrainer.StepStats s = trainer.step(List.of(group("a", policy, new int[] {5, 9, 2}, new int[] {6, 9, 2}, 0)));
            assertEquals(2, s.optimizerSteps());
            assertEquals(1, s.updates().get(1).epoch());
            assertEquals(1.0, s.updates().get(0).ratioMax(), 0.0);
            assertTrue(s.updates().get(1).ratioMax() > 1 + 1e-3, "good tokens gained in the first epoch: " + s.updates().get(1));
            assertTrue(s.updates().get(1).ratioMin() < 1 - 1e-3, "bad tokens lost in the first epoch: " + s.updates().get(1));
        }
    }

    @Test
    void theTruncatedWeightIsCappedAndTheMismatchReported() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 3);
            // behaviour log-probs log(5) below the policy's: π_prox/μ = 5 on every token, capped at 2
            TrainingGroup far = group("far", policy, new int[] {5, 9, 2}, new int[] {6, 9, 2}, (float) Math.log(5));
            GrpoTrainer.StepStats capped = new GrpoTrainer(policy, null, AdamW.standard(nd, 0), ppo(1, 1, 1, 1e-6, 2.0), 0)
                    .step(List.of(far));
            assertEquals(2.0, capped.importanceWeight(), 1e-4);
            assertEquals(2.0, capped.importanceWeightMax(), 1e-4);
            assertEquals(1.0, capped.cappedWeightFraction(), 0.0);
            assertEquals(5 - Math.log(5) - 1, capped.mismatchKl(), 1e-3);

            // π_prox/μ = 1.5 stays under the cap
            TrainingGroup near = group("near", policy, new int[] {5, 9, 2}, new int[] {6, 9, 2}, (float) Math.log(1.5));
            GrpoTrainer.StepStats under = new GrpoTrainer(policy, null, AdamW.standard(nd, 0), ppo(1, 1, 1, 1e-6, 2.0), 0)
                    .step(List.of(near));
            assertEquals(1.5, under.importanceWeight(), 1e-3);
            assertEquals(0.0, under.cappedWeightFraction(), 0.0);
            assertEquals(1.5 - Math.log(1.5) - 1, under.mismatchKl(), 1e-3);
        }
    }

    @Test
    void groupsSplitIntoContiguousMiniBatchesOfWholeGroups() {
        List<Integer> sizes = GrpoTrainer.split(List.of(g(), g(), g(), g(), g()), 2).stream().map(List::size).toList();
        assertEquals(List.of(3, 2), sizes);
        assertEquals(List.of(1, 1, 1), GrpoTrainer.split(List.of(g(), g(), g()), 3).stream().map(List::size).toList());
    }

    private static TrainingGroup g() {
        return new TrainingGroup("x", 0, PROMPT, List.of(new int[] {5}), List.of(new float[] {0f}), new double[] {0},
                new double[] {0});
    }
}
