package org.rollstream.policy.ort;

import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** DJL (training side) and ONNX Runtime (inference side) compute the same function. */
class ParityTest {
    static final ModelSpec SPEC = new ModelSpec(50, 48, 2, 4, 40, ModelSpec.Positional.LEARNED, 4);

    /** Random weights with non-trivial LayerNorm gains and biases, so every tensor matters. */
    static Weights randomWeights(ModelSpec spec, long seed) {
        Random r = new Random(seed);
        Weights w = new Weights();
        spec.parameterShapes().forEach((name, shape) -> {
            float[] d = new float[(int) Weights.Tensor.numel(shape)];
            boolean gain = name.contains("ln_") && name.endsWith("weight");
            for (int i = 0; i < d.length; i++) d[i] = (float) (gain ? 1 + 0.2 * r.nextGaussian() : 0.15 * r.nextGaussian());
            w.put(name, shape, d);
        });
        return w;
    }

    @Test
    void djlAndOrtLogitsAgree() {
        Weights w = randomWeights(SPEC, 11);
        Random r = new Random(5);
        int b = 3, t = 17;
        int[][] tokens = new int[b][t];
        for (int[] row : tokens) for (int j = 0; j < t; j++) row[j] = r.nextInt(SPEC.vocabSize());
        float[][][] ort;
        try (OrtPolicy op = OrtPolicy.create(SPEC, w, Device.CPU)) {
            ort = op.logits(tokens);
        }
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            DjlPolicy p = new DjlPolicy(SPEC, m, w);
            float[] djl = p.logits(m.create(tokens)).toFloatArray();
            double maxDiff = 0;
            int v = SPEC.vocabSize();
            for (int i = 0; i < b; i++)
                for (int j = 0; j < t; j++)
                    for (int k = 0; k < v; k++) maxDiff = Math.max(maxDiff, Math.abs(ort[i][j][k] - djl[(i * t + j) * v + k]));
            System.out.println("max |DJL - ORT| logits = " + maxDiff);
            assertTrue(maxDiff <= 1e-4, "max abs diff " + maxDiff);
            // and the logits are not trivially small
            assertTrue(new NDArrayStats(djl).maxAbs > 1.0);
        }
    }

    record NDArrayStats(float maxAbs) {
        NDArrayStats(float[] a) {
            this(max(a));
        }

        static float max(float[] a) {
            float m = 0;
            for (float x : a) m = Math.max(m, Math.abs(x));
            return m;
        }
    }
}
