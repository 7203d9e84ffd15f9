package org.rollstream.learner.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * Gradient accumulation over micro-batches gives the update of one pass over the mini-batch, for
 * both aggregations, and fp16 compute moves the weights the way fp32 does.
 *
 * <p>The optimizer is AdamW with ε = 1 and no gradient clipping: its first update is then
 * lr·g/(|g|+1), close to linear in the gradient, so a wrongly scaled micro-batch gradient shows in
 * the weights (with the usual ε a first Adam update is lr·sign(g) and would hide it).
 */
class MicroBatchTest {
    private static final ModelSpec SPEC = new ModelSpec(16, 32, 2, 2, 24, ModelSpec.Positional.LEARNED, 2);
    private static final double LR = 1e-2;

    /** Four groups of two whose completions have different lengths (2 to 9 tokens), so micro-batches differ in token counts. */
    private static List<TrainingGroup> groups() {
        Random r = new Random(5);
        List<TrainingGroup> out = new ArrayList<>();
        for (int g = 0; g < 4; g++) {
            int[] prompt = {1, 3 + g, 4 + g};
            List<int[]> completions = new ArrayList<>();
            List<float[]> behaviour = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                int len = 2 + (g * 2 + i) % 8;
                int[] c = new int[len];
                float[] lp = new float[len];
                for (int j = 0; j < len; j++) {
                    c[j] = 2 + r.nextInt(14);
                    lp[j] = (float) (-2.8 + 0.3 * r.nextGaussian());
                }
                completions.add(c);
                behaviour.add(lp);
            }
            out.add(new TrainingGroup("g" + g, 0, prompt, completions, behaviour, new double[] {1, 0},
                    new double[] {1, -1}));
        }
        return out;
    }

    private static GrpoConfig config(Aggregation aggregation) {
        return GrpoConfig.builder().groupsPerStep(4).maxStaleness(0).klBeta(0.05).importanceCap(2.0)
                .aggregation(aggregation).learningRate(LR).maxGradNorm(0).build();
    }

    /** Weights after one step from the same start; {@code micro} sequences per pass (0 = whole). */
    private static float[] afterOneStep(Aggregation aggregation, int micro, ComputePrecision precision, double[] loss) {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 9).computePrecision(precision);
            DjlPolicy reference = new DjlPolicy(SPEC, nd, 10);
            AdamW adam = new AdamW(nd, 0.9, 0.999, 1.0, 0);
            GrpoTrainer trainer = new GrpoTrainer(policy, reference, adam, config(aggregation), 0)
                    .microBatchSize(micro)
                    .lossScale(precision.reduced() ? LossScale.dynamic() : LossScale.none());
            GrpoTrainer.StepStats s = trainer.step(groups());
            assertTrue(s.applied(), "the update was applied");
            loss[0] = s.loss();
            return flat(policy.exportWeights());
        }
    }

    /** Every parameter of {@code w} in one array, in the weights' (canonical) order; shared with Fp16TrainingTest. */
    static float[] flat(Weights w) {
        List<float[]> parts = new ArrayList<>();
        int n = 0;
        for (Weights.Tensor t : w.tensors().values()) {
            float[] d = t.data();
            parts.add(d);
            n += d.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] d : parts) {
            System.arraycopy(d, 0, out, at, d.length);
            at += d.length;
        }
        return out;
    }

    private static float[] delta(float[] after) {
        float[] start = flat(DjlPolicy.initialWeights(SPEC, 9));
        float[] d = new float[after.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = after[i] - start[i];
        }
        return d;
    }

    private static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private static void assertSameUpdate(Aggregation aggregation) {
        double[] lossWhole = new double[1];
        double[] lossMicro = new double[1];
        float[] whole = delta(afterOneStep(aggregation, 0, ComputePrecision.FP32, lossWhole));
        // 3 does not divide the 8 sequences: micro-batches of 3, 3 and 2 rows with different token counts
        float[] micro = delta(afterOneStep(aggregation, 3, ComputePrecision.FP32, lossMicro));
        double size = maxAbs(whole);
        double diff = 0;
        for (int i = 0; i < whole.length; i++) {
            diff = Math.max(diff, Math.abs(whole[i] - micro[i]));
        }
        System.out.printf("%s: largest weight change %.3e, whole vs micro-batched differ by %.3e; loss %.6f vs %.6f%n",
                aggregation, size, diff, lossWhole[0], lossMicro[0]);
        assertTrue(size > 1e-4, "the step moved the weights: " + size);
        // fp32 rounding of differently shaped matmuls and sums: relative 1e-6-ish; 1e-4 of the largest change is ample
        assertTrue(diff <= 1e-4 * size, "micro-batched update differs by " + diff + " (largest change " + size + ")");
        assertEquals(lossWhole[0], lossMicro[0], 1e-5 * Math.max(1, Math.abs(lossWhole[0])), "micro-batch losses add up");
    }

    @Test
    void microBatchesGiveTheTokenMeanUpdateOfOnePass() {
        assertSameUpdate(Aggregation.TOKEN_MEAN);
    }

    @Test
    void microBatchesGiveTheSequenceMeanUpdateOfOnePass() {
        assertSameUpdate(Aggregation.SEQUENCE_MEAN);
    }

    /**
     * The micro-batch normaliser is what makes them equal: the token-mean of each micro-batch on its
     * own (the naive accumulation) gives another loss, since the micro-batches differ in token counts.
     */
    @Test
    void perMicroBatchMeansWouldNotAddUp() {
        try (NDManager nd = NDManager.newBaseManager()) {
            SequenceBatch all = SequenceBatch.of(nd, groups(), 0, SPEC.contextLength());
            ai.djl.ndarray.NDArray perToken = all.mask().mul(all.advantages().reshape(-1, 1)).add(all.mask().cumSum(1));
            float whole = GrpoLoss.aggregate(perToken, all.mask(), Aggregation.TOKEN_MEAN).getFloat();
            GrpoLoss.Normaliser n = new GrpoLoss.Normaliser(all.completionTokens(), all.rows());
            float normalised = 0;
            float naive = 0;
            for (int from = 0; from < all.rows(); from += 3) {
                long to = Math.min(all.rows(), from + 3);
                ai.djl.ndarray.NDArray pt = perToken.get(from + ":" + to);
                ai.djl.ndarray.NDArray m = all.mask().get(from + ":" + to);
                normalised += GrpoLoss.aggregate(pt, m, Aggregation.TOKEN_MEAN, n).getFloat();
                naive += GrpoLoss.aggregate(pt, m, Aggregation.TOKEN_MEAN).getFloat() / 3f;
            }
            assertEquals(whole, normalised, 1e-5);
            assertNotEquals(whole, naive, 1e-2, "naive per-micro-batch means happen to agree; the data do not test the normaliser");
        }
    }

    /**
     * fp16 matmuls with fp32 master weights and a dynamic loss scale: one GRPO step changes the
     * weights in the direction fp32 does (cosine of the two weight changes above 0.99; fp16's
     * relative rounding is 5e-4, so the gradients agree to about that) by a similar amount.
     */
    @Test
    void fp16StepMovesTheWeightsLikeFp32() {
        double[] loss32 = new double[1];
        double[] loss16 = new double[1];
        float[] d32 = delta(afterOneStep(Aggregation.TOKEN_MEAN, 0, ComputePrecision.FP32, loss32));
        float[] d16 = delta(afterOneStep(Aggregation.TOKEN_MEAN, 0, ComputePrecision.FP16, loss16));
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < d32.length; i++) {
            ab += (double) d32[i] * d16[i];
            aa += (double) d32[i] * d32[i];
            bb += (double) d16[i] * d16[i];
        }
        double cos = ab / Math.sqrt(aa * bb);
        System.out.printf("fp16 vs fp32 step: cosine %.5f, norms %.4e vs %.4e, loss %.6f vs %.6f%n", cos, Math.sqrt(aa),
                Math.sqrt(bb), loss32[0], loss16[0]);
        assertTrue(cos > 0.99, "fp16 step direction vs fp32: cosine " + cos);
        assertEquals(1.0, Math.sqrt(bb / aa), 0.05, "fp16 step size relative to fp32");
    }

    /** The SFT step accumulates micro-batches the same way (token mean over the whole batch). */
    @Test
    void sftMicroBatchesGiveTheUpdateOfOnePass() {
        CharTokenizer tok = CharTokenizer.builtin();
        ModelSpec spec = ModelSpec.preset("tiny").withContext(48);
        List<SftTrainer.Pair> batch = List.of(new SftTrainer.Pair("1+2=", "3"), new SftTrainer.Pair("12+34=", "46 ok"),
                new SftTrainer.Pair("7*8=", "56"), new SftTrainer.Pair("100-1=", "99 because"),
                new SftTrainer.Pair("5+5=", "10"));
        float[][] after = new float[2][];
        double[] loss = new double[2];
        for (int run = 0; run < 2; run++) {
            try (NDManager nd = NDManager.newBaseManager()) {
                DjlPolicy policy = new DjlPolicy(spec, nd, 4);
                SftTrainer sft = new SftTrainer(policy, tok, new AdamW(nd, 0.9, 0.999, 1.0, 0), 0).microBatchSize(run == 0 ? 0 : 2);
                loss[run] = sft.step(batch, LR);
                Weights w = policy.exportWeights();
                after[run] = w.get("h.0.attn.c_attn.weight").data();
            }
        }
        float[] start = DjlPolicy.initialWeights(spec, 4).get("h.0.attn.c_attn.weight").data();
        double size = 0;
        double diff = 0;
        for (int i = 0; i < start.length; i++) {
            size = Math.max(size, Math.abs(after[0][i] - start[i]));
            diff = Math.max(diff, Math.abs(after[0][i] - after[1][i]));
        }
        assertTrue(size > 1e-5, "the step moved the weights: " + size);
        assertTrue(diff <= 1e-4 * size, "micro-batched SFT update differs by " + diff + " (largest change " + size + ")");
        assertEquals(loss[0], loss[1], 1e-5 * loss[0]);
    }
}
