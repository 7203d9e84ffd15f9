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

    /**
     * Gradient of the mean token log-prob, flattened in parameter order, as fp32; gradients are reset
     * afterwards. In fp16 it is the gradient of the trainable compute weights (the masters get none).
     */
    private static float[] gradient(DjlPolicy p, NDManager nd, int[][] tok) {
        if (p.computePrecision().reduced()) {
            try (NDManager s = nd.newSubManager(); ComputeWeights cw = p.openComputeWeights(true)) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(p.tokenLogProbs(s.create(tok), true).mean().neg());
                }
                java.util.List<float[]> parts = new java.util.ArrayList<>();
                int n = 0;
                for (String name : cw.names()) {
                    NDArray g = cw.gradient(name);
                    assertEquals(ai.djl.ndarray.types.DataType.FLOAT16, g.getDataType());
                    float[] f = g.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
                    parts.add(f);
                    n += f.length;
                }
                float[] out = new float[n];
                int at = 0;
                for (float[] f : parts) {
                    System.arraycopy(f, 0, out, at, f.length);
                    at += f.length;
                }
                return out;
            }
        }
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
     * The whole forward in fp16 (11-bit mantissa, unit roundoff 2^-11 ≈ 4.9e-4) against fp32: each
     * logit (O(1) here) passes through a few dozen fp16 roundings of O(1) values (residual stream,
     * layer norms, products), so its error is some 1e-3, and a log-prob (about −3.9 here) moves by
     * about that much: under 0.01, far less than the log-probs' spread across tokens. The gradient of
     * the fp16 compute weights points the way of the fp32 gradient (cosine above 0.999).
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

    /**
     * The KV-cache path in fp16 (cached keys and values in fp16, copies made per call) matches the
     * full fp16 forward to fp16 rounding of logits of size O(1): 1e-2.
     */
    @Test
    void fp16CachedDecodingMatchesTheFullForward() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy p = new DjlPolicy(SPEC, nd, 5).computePrecision(ComputePrecision.FP16);
            NDArray all = nd.create(tokens(2, 2, 10));
            NDArray full = p.logits(all);
            DjlPolicy.KvCache c1 = new DjlPolicy.KvCache(new java.util.ArrayList<>(), new java.util.ArrayList<>());
            NDArray first = p.forwardWithCache(all.get(":, 0:6"), null, c1);
            assertEquals(ai.djl.ndarray.types.DataType.FLOAT16, c1.keys().get(0).getDataType());
            DjlPolicy.KvCache c2 = new DjlPolicy.KvCache(new java.util.ArrayList<>(), new java.util.ArrayList<>());
            NDArray rest = p.forwardWithCache(all.get(":, 6:"), c1, c2);
            assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, rest.getDataType());
            double diff = maxAbsDiff(first.concat(rest, 1).toFloatArray(), full.toFloatArray());
            assertTrue(diff < 1e-2, "cached fp16 logits differ by " + diff);
        }
    }

    /** In fp16 the masters stay fp32 and get no gradient; a training forward without trainable copies is refused. */
    @Test
    void fp16TrainsTheComputeWeightsNotTheMasters() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy p = new DjlPolicy(SPEC, nd, 3).computePrecision(ComputePrecision.FP16);
            int[][] tok = tokens(4, 2, 12);
            try (NDManager s = nd.newSubManager()) {
                org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                        () -> p.tokenLogProbs(s.create(tok), true));
                NDArray lp = p.tokenLogProbs(s.create(tok));
                assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, lp.getDataType(), "log-probs come out in fp32");
                try (ComputeWeights cw = p.openComputeWeights(true)) {
                    assertEquals(ai.djl.ndarray.types.DataType.FLOAT16, cw.get("wte.weight").getDataType());
                    org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> p.openComputeWeights(false));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(p.tokenLogProbs(s.create(tok), true).mean().neg());
                    }
                    double g = cw.gradient("wte.weight").abs().sum().toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                            .getFloat();
                    assertTrue(g > 0, "the fp16 copy of wte got a gradient");
                }
                for (Pair<String, Parameter> e : p.block().getParameters()) {
                    NDArray w = e.getValue().getArray();
                    assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, w.getDataType(), e.getKey());
                    float sum = w.getGradient().abs().sum().getFloat();
                    assertEquals(0f, sum, e.getKey() + ": the master got a gradient through the fp16 forward");
                }
            }
        }
    }

    /**
     * GELU on fp16 activations far outside the usual range: x³ would overflow fp16 at |x| > 40 and
     * its gradient at |x| > 256; values and gradients stay finite and equal GELU's (x for large
     * positive x, 0 for large negative x; derivative 1 and 0).
     */
    @Test
    void fp16GeluSurvivesLargeActivations() {
        try (NDManager nd = NDManager.newBaseManager()) {
            float[] xs = {-60000f, -1000f, -300f, -50f, -3f, -0.5f, 0f, 0.5f, 3f, 50f, 300f, 1000f, 60000f};
            NDArray x16 = nd.create(xs).toType(ai.djl.ndarray.types.DataType.FLOAT16, false);
            x16.setRequiresGradient(true);
            NDArray x32 = nd.create(xs);
            x32.setRequiresGradient(true);
            float[] y16;
            float[] y32;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray a = DjlPolicy.fastGelu(x16);
                NDArray b = DjlPolicy.fastGelu(x32);
                y16 = a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
                y32 = b.toFloatArray();
                gc.backward(a.sum());
                gc.backward(b.sum());
            }
            float[] g16 = x16.getGradient().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
            float[] g32 = x32.getGradient().toFloatArray();
            for (int i = 0; i < xs.length; i++) {
                assertTrue(Float.isFinite(y16[i]) && Float.isFinite(g16[i]), "x=" + xs[i] + ": gelu " + y16[i] + ", grad " + g16[i]);
                // fp16 rounding of the result (relative 2^-11) and of the small values' arithmetic
                assertEquals(y32[i], y16[i], 2e-3 * Math.max(1, Math.abs(y32[i])), "gelu(" + xs[i] + ")");
                assertEquals(g32[i], g16[i], 5e-3, "gelu'(" + xs[i] + ")");
            }
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
