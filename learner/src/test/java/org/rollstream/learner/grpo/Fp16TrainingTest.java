package org.rollstream.learner.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.learner.optim.LossScale;
import org.rollstream.learner.sft.SftTrainer;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.ComputePrecision;
import org.rollstream.policy.djl.DjlPolicy;

/**
 * Training with fp16 compute (fp16 copies of fp32 master weights, dynamic loss scale): it learns
 * what fp32 learns, an overflowing loss scale skips the update and halves the scale, and
 * micro-batches accumulate to the one-pass update.
 */
class Fp16TrainingTest {
    private static final ModelSpec SPEC = new ModelSpec(16, 32, 2, 2, 24, ModelSpec.Positional.LEARNED, 2);

    /** Four groups of four; in each, completions 0 and 2 are rewarded, 1 and 3 are not; lengths 3 to 8. */
    private static List<TrainingGroup> groups() {
        Random r = new Random(7);
        List<TrainingGroup> out = new ArrayList<>();
        for (int g = 0; g < 4; g++) {
            int[] prompt = {1, 3 + g, 4 + g};
            List<int[]> completions = new ArrayList<>();
            List<float[]> behaviour = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int len = 3 + (g + i) % 6;
                int[] c = new int[len];
                float[] lp = new float[len];
                for (int j = 0; j < len; j++) {
                    c[j] = 2 + r.nextInt(14);
                    lp[j] = (float) -Math.log(16);
                }
                completions.add(c);
                behaviour.add(lp);
            }
            out.add(new TrainingGroup("g" + g, 0, prompt, completions, behaviour, new double[] {1, 0, 1, 0},
                    new double[] {1, -1, 1, -1}));
        }
        return out;
    }

    private static GrpoConfig config() {
        return GrpoConfig.builder().groupsPerStep(4).maxStaleness(0).klBeta(0.02).importanceCap(2.0)
                .aggregation(Aggregation.TOKEN_MEAN).learningRate(3e-3).maxGradNorm(1.0).build();
    }

    /** Mean log-prob of the rewarded completions' tokens minus that of the others, with the policy as it is. */
    private static double preferenceGap(DjlPolicy policy, List<TrainingGroup> groups) {
        try (NDManager s = policy.manager().newSubManager()) {
            SequenceBatch b = SequenceBatch.of(s, groups, 0, SPEC.contextLength());
            NDArray lp = policy.tokenLogProbs(b.tokens()).mul(b.mask());
            NDArray perSeq = lp.sum(new int[] {1}).div(b.mask().sum(new int[] {1}));
            float[] v = perSeq.toFloatArray();
            double gap = 0;
            for (int i = 0; i < v.length; i++) {
                gap += (i % 2 == 0 ? 1 : -1) * v[i];
            }
            return gap / (v.length / 2.0);
        }
    }

    /** The preference gap after each of {@code steps} GRPO steps on the same groups. */
    private static double[] grpoRun(ComputePrecision precision, int steps) {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 21).computePrecision(precision);
            DjlPolicy reference = new DjlPolicy(SPEC, nd, 21).computePrecision(precision);
            GrpoTrainer trainer = new GrpoTrainer(policy, reference, AdamW.standard(nd, 0), config(), 0)
                    .lossScale(precision.reduced() ? LossScale.dynamic() : LossScale.none());
            double[] gap = new double[steps + 1];
            gap[0] = preferenceGap(policy, groups());
            for (int i = 0; i < steps; i++) {
                assertTrue(trainer.step(groups()).applied(), precision + " step " + i + " was applied");
                gap[i + 1] = preferenceGap(policy, groups());
            }
            return gap;
        }
    }

    /**
     * Eight GRPO steps raise the rewarded completions' log-probs over the others' in fp16 as in
     * fp32: the gap grows by over half a nat in both, and the two curves agree to within 5% of the
     * growth (fp16 rounding of 5e-4 per op compounded over eight Adam steps, which amplify small
     * gradients' relative errors).
     */
    @Test
    void fp16GrpoStepsLearnWhatFp32Learns() {
        double[] g32 = grpoRun(ComputePrecision.FP32, 8);
        double[] g16 = grpoRun(ComputePrecision.FP16, 8);
        System.out.printf("preference gap fp32 %s%n               fp16 %s%n", java.util.Arrays.toString(g32),
                java.util.Arrays.toString(g16));
        double growth = g32[8] - g32[0];
        assertTrue(growth > 0.5, "fp32 learned the preference: " + growth);
        assertTrue(g16[8] - g16[0] > 0.5, "fp16 learned the preference: " + (g16[8] - g16[0]));
        for (int i = 0; i < g32.length; i++) {
            assertEquals(g32[i], g16[i], 0.05 * growth, "gap after step " + i);
        }
    }

    /**
     * Ten SFT updates lower the loss in fp16 as in fp32, update by update within 2%. The default
     * scale (2¹⁶) may overflow on the first steps (a weight's gradient sums over every token), which
     * are then skipped with the weights unchanged; the losses are compared after equal numbers of
     * applied updates, and at most three skips are allowed.
     */
    @Test
    void fp16SftStepsLowerTheLossLikeFp32() {
        CharTokenizer tok = CharTokenizer.builtin();
        ModelSpec spec = ModelSpec.preset("student").withContext(32);
        List<SftTrainer.Pair> batch = List.of(new SftTrainer.Pair("1+2=", "<answer>3</answer>"),
                new SftTrainer.Pair("12+34=", "<answer>46</answer>"), new SftTrainer.Pair("7*8=", "<answer>56</answer>"),
                new SftTrainer.Pair("9-1=", "<answer>8</answer>"));
        int updates = 10;
        List<List<Double>> loss = new ArrayList<>();
        long fp16Skips = 0;
        for (int run = 0; run < 2; run++) {
            ComputePrecision p = run == 0 ? ComputePrecision.FP32 : ComputePrecision.FP16;
            List<Double> curve = new ArrayList<>();
            try (NDManager nd = NDManager.newBaseManager()) {
                DjlPolicy policy = new DjlPolicy(spec, nd, 4).computePrecision(p);
                SftTrainer sft = new SftTrainer(policy, tok, AdamW.standard(nd, 0), 1.0)
                        .lossScale(p.reduced() ? LossScale.dynamic() : LossScale.none());
                boolean lastSkipped = false;
                for (int call = 0; curve.size() <= updates && call < updates + 4; call++) {
                    long before = sft.skippedSteps();
                    double l = sft.step(batch, 3e-3);
                    if (!lastSkipped) { // after a skip the weights are those the previous loss was computed with
                        curve.add(l);
                    }
                    lastSkipped = sft.skippedSteps() > before;
                }
                if (p.reduced()) {
                    fp16Skips = sft.skippedSteps();
                } else {
                    assertEquals(0, sft.skippedSteps(), "fp32 skips nothing");
                }
            }
            loss.add(curve);
        }
        System.out.printf("SFT loss after 0..%d applied updates%n  fp32 %s%n  fp16 %s (%d skipped)%n", updates, loss.get(0),
                loss.get(1), fp16Skips);
        assertTrue(fp16Skips <= 3, "fp16 skipped " + fp16Skips + " steps");
        assertEquals(updates + 1, loss.get(1).size(), "fp16 made " + updates + " updates");
        assertTrue(loss.get(0).get(updates) < 0.7 * loss.get(0).get(0), "fp32 loss fell: " + loss.get(0));
        assertTrue(loss.get(1).get(updates) < 0.7 * loss.get(1).get(0), "fp16 loss fell: " + loss.get(1));
        for (int i = 0; i <= updates; i++) {
            assertEquals(loss.get(0).get(i), loss.get(1).get(i), 0.02 * loss.get(0).get(i), "loss after " + i + " updates");
        }
    }

    /**
     * A loss scale of 2²⁴ makes the scaled gradient overflow fp16 (a token's log-prob gradient is
     * about 1/tokens ≈ 1/90 here, times 2²⁴ is far above fp16's 65,504): the update is skipped, the
     * weights do not move and the scale halves, until it is small enough; then updates apply.
     */
    @Test
    void overflowSkipsTheUpdateAndHalvesTheScale() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 21).computePrecision(ComputePrecision.FP16);
            LossScale scale = LossScale.dynamic(1 << 24, 200);
            GrpoTrainer trainer = new GrpoTrainer(policy, null, AdamW.standard(nd, 0),
                    GrpoConfig.builder().groupsPerStep(4).maxStaleness(0).klBeta(0).importanceCap(2.0)
                            .learningRate(3e-3).maxGradNorm(1.0).build(), 0).lossScale(scale);
            float[] start = MicroBatchTest.flat(policy.exportWeights());
            GrpoTrainer.StepStats first = trainer.step(groups());
            assertFalse(first.applied(), "the overflowing update was applied");
            assertFalse(Double.isFinite(first.gradNorm()), "gradient norm " + first.gradNorm());
            assertEquals(1, trainer.skippedSteps());
            assertEquals(1 << 23, scale.factor(), "the scale halved");
            assertArrayEquals(start, MicroBatchTest.flat(policy.exportWeights()), "a skipped update leaves the weights as they were");
            int skipped = 1;
            while (!trainer.step(groups()).applied()) {
                skipped++;
                assertEquals((double) (1 << 24) / (1L << skipped), scale.factor(), "halved again after skip " + skipped);
                assertTrue(skipped < 24, "the scale never came down far enough");
            }
            System.out.printf("overflow: %d updates skipped, first applied at scale %.0f%n", skipped, scale.factor());
            assertEquals(skipped, trainer.skippedSteps());
            float[] after = MicroBatchTest.flat(policy.exportWeights());
            double moved = 0;
            for (int i = 0; i < after.length; i++) {
                assertTrue(Float.isFinite(after[i]), "weight " + i + " is " + after[i]);
                moved = Math.max(moved, Math.abs(after[i] - start[i]));
            }
            assertTrue(moved > 1e-4, "the applied update moved the weights: " + moved);
        }
    }

    /** SFT likewise: an overflowing step is skipped, leaves the weights and halves the scale. */
    @Test
    void sftOverflowSkipsTheStep() {
        CharTokenizer tok = CharTokenizer.builtin();
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(ModelSpec.preset("student").withContext(32), nd, 4)
                    .computePrecision(ComputePrecision.FP16);
            LossScale scale = LossScale.dynamic(1 << 24, 200);
            SftTrainer sft = new SftTrainer(policy, tok, AdamW.standard(nd, 0), 1.0).lossScale(scale);
            float[] start = policy.exportWeights().get("h.0.attn.c_attn.weight").data();
            sft.step(List.of(new SftTrainer.Pair("1+2=", "<answer>3</answer>")), 3e-3);
            assertEquals(1, sft.skippedSteps());
            assertEquals(1 << 23, scale.factor());
            assertArrayEquals(start, policy.exportWeights().get("h.0.attn.c_attn.weight").data());
        }
    }

    /**
     * Micro-batches of 3, 3, 3, 3 and 4 sequences give the one-pass update in fp16 too: each
     * micro-batch's fp16 gradient is moved into fp32 and summed there, so the two differ only by
     * fp16 rounding in differently shaped products (relative 1e-3-ish), not by a wrong scale or a
     * lost micro-batch (which would be 20% or more).
     */
    @Test
    void fp16MicroBatchesGiveTheOnePassUpdate() {
        float[][] delta = new float[2][];
        float[] start = MicroBatchTest.flat(DjlPolicy.initialWeights(SPEC, 21));
        for (int run = 0; run < 2; run++) {
            try (NDManager nd = NDManager.newBaseManager()) {
                DjlPolicy policy = new DjlPolicy(SPEC, nd, 21).computePrecision(ComputePrecision.FP16);
                DjlPolicy reference = new DjlPolicy(SPEC, nd, 22).computePrecision(ComputePrecision.FP16);
                // AdamW with ε = 1 and no clipping: the first update is about lr·g, so a wrong gradient shows
                GrpoTrainer trainer = new GrpoTrainer(policy, reference, new AdamW(nd, 0.9, 0.999, 1.0, 0),
                        GrpoConfig.builder().groupsPerStep(4).maxStaleness(0).klBeta(0.05).importanceCap(2.0)
                                .learningRate(1e-2).maxGradNorm(0).build(), 0)
                        .microBatchSize(run == 0 ? 0 : 3).lossScale(LossScale.dynamic());
                assertTrue(trainer.step(groups()).applied());
                float[] after = MicroBatchTest.flat(policy.exportWeights());
                delta[run] = new float[after.length];
                for (int i = 0; i < after.length; i++) {
                    delta[run][i] = after[i] - start[i];
                }
            }
        }
        double size = 0;
        double diff = 0;
        for (int i = 0; i < start.length; i++) {
            size = Math.max(size, Math.abs(delta[0][i]));
            diff = Math.max(diff, Math.abs(delta[0][i] - delta[1][i]));
        }
        System.out.printf("fp16 micro-batches: largest weight change %.3e, whole vs micro-batched differ by %.3e%n", size, diff);
        assertTrue(size > 1e-4, "the step moved the weights: " + size);
        assertTrue(diff <= 1e-2 * size, "micro-batched fp16 update differs by " + diff + " (largest change " + size + ")");
    }
}
