package org.rollstream.policy.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.rollstream.policy.ModelSpec;

/**
 * The memory-releasing forward computes what the original one did, and the reduced-precision
 * forward stays close to fp32 and yields gradients pointing the same way.
 */
class ForwardPathsTest {
    private static final ModelSpec SPEC = new ModelSpec(50, 64, 2, 4, 32, ModelSpec.Positional.LEARNED, 4);

    private static int[][] tokens(long seed, int rows, int len) {
        Random r = new Random(seed);
        int[][] t = new int[rows][len];
        for (int[] row : t) {
            for (int j = 0; j < len; j++) {
                row[j] = r.nextInt(SPEC.vocabSize());
            }
        }
        return t;
    }

    /** Gradient of the mean token log-prob, flattened in parameter order; gradients are reset afterwards. */
    private static float[] gradient(DjlPolicy p, NDManager nd, int[][] tok) {
        try (NDManager s = nd.newSubManager()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(p.tokenLogProbs(s.create(tok), true).mean().neg());
            }
            int n = 0;
            for (Pair<String, Parameter> e : p.block().getParameters()) {
                n += (int) e.getValue().getArray().size();
            }
            float[] out = new float[n];
            int at = 0;
            for (Pair<String, Parameter> e : p.block().getParameters()) {
                NDArray w = e.getValue().getArray();
                float[] g = w.getGradient().toFloatArray();
                System.arraycopy(g, 0, out, at, g.length);
                at += g.length;
                ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) w);
            }
            return out;
        }
    }

    private static double cosine(float[] a, float[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /** Fused layer norm, σ-form GELU and the released intermediates change only float rounding. */
    @Test
    void releasingForwardMatchesTheLegacyForwardAndItsGradient() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy p = new DjlPolicy(SPEC, nd, 11);
            int[][] tok = tokens(1, 4, 24);
            float[] now;
            float[] before;
            try (NDManager s = nd.newSubManager()) {
                now = p.tokenLogProbs(s.create(tok)).toFloatArray();
                p.legacyForward(true);
                before = p.tokenLogProbs(s.create(tok)).toFloatArray();
                p.legacyForward(false);
            }
            // log-probs near -ln(50) ≈ -3.9; fp32 op-order differences stay around 1e-6
            assertTrue(maxAbsDiff(now, before) < 1e-5, "log-probs differ by " + maxAbsDiff(now, before));
            float[] gNow = gradient(p, nd, tok);
            p.legacyForward(true);
            float[] gBefore = gradient(p, nd, tok);
            p.legacyForward(false);
            double scale = 0;
            for (float g : gBefore) {
                scale = Math.max(scale, Math.abs(g));
            }
            assertTrue(scale > 0, "the gradient is not all zero");
            assertTrue(maxAbsDiff(gNow, gBefore) < 1e-4 * scale, "gradients differ by " + maxAbsDiff(gNow, gBefore)
                    + " (largest component " + scale + ")");
        }
    }

    /** The KV-cache path of the releasing forward still matches the full forward. */
    @Test
    void cachedDecodingMatchesTheFullForward() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy p = new DjlPolicy(SPEC, nd, 5);
            int[][] tok = tokens(2, 2, 10);
            NDArray all = nd.create(tok);
            NDArray full = p.logits(all);
            DjlPolicy.KvCache c1 = new DjlPolicy.KvCache(new java.util.ArrayList<>(), new java.util.ArrayList<>());
            NDArray first = p.forwardWithCache(all.get(":, 0:6"), null, c1);
            DjlPolicy.KvCache c2 = new DjlPolicy.KvCache(new java.util.ArrayList<>(), new java.util.ArrayList<>());
            NDArray rest = p.forwardWithCache(all.get(":, 6:"), c1, c2);
            assertTrue(first.concat(rest, 1).allClose(full, 1e-5, 1e-5, false));
        }
    }

    /**
     * fp16 matmuls (11-bit mantissa, relative rounding 2^-11 ≈ 5e-4 per operand) against fp32: the
     * log-probs (about −3.9 here) of a 2-layer model differ by under 0.01 (a few roundings of
     * O(1) logits), far less than their spread across tokens, and the gradients point the same way.
     */
    @Test
    void fp16IsCloseToFp32() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy p = new DjlPolicy(SPEC, nd, 3);
            int[][] tok = tokens(3, 4, 24);
            float[] fp32;
            float[] fp16;
            try (NDManager s = nd.newSubManager()) {
                fp32 = p.tokenLogProbs(s.create(tok)).toFloatArray();
                p.computePrecision(ComputePrecision.FP16);
                fp16 = p.tokenLogProbs(s.create(tok)).toFloatArray();
                p.computePrecision(ComputePrecision.FP32);
            }
            double diff = maxAbsDiff(fp32, fp16);
            System.out.printf("fp16 vs fp32: max |Δ log p| = %.5f%n", diff);
            assertTrue(diff > 0, "fp16 must actually change the arithmetic");
            assertTrue(diff < 0.01, "fp16 log-probs differ from fp32 by " + diff);
            float[] g32 = gradient(p, nd, tok);
            p.computePrecision(ComputePrecision.FP16);
            float[] g16 = gradient(p, nd, tok);
            double cos = cosine(g32, g16);
            System.out.printf("fp16 vs fp32: gradient cosine = %.5f%n", cos);
            assertTrue(cos > 0.999, "fp16 gradient cosine to fp32 " + cos);
        }
    }

    /** bf16 is refused with a reason instead of reaching DJL's JNI, which would abort the JVM. */
    @Test
    void bf16IsRefusedBeforeAnyTensorIsTouched() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy p = new DjlPolicy(SPEC, nd, 3);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> p.computePrecision(ComputePrecision.BF16));
            assertTrue(e.getMessage().contains("fp16"), e.getMessage());
            assertEquals(ComputePrecision.FP32, p.computePrecision());
        }
    }
}
