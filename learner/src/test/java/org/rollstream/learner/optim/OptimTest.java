package org.rollstream.learner.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.PairList;
import org.junit.jupiter.api.Test;

class OptimTest {
    /** A parameter whose gradient is {@code grad} (through loss = sum(w · grad)). */
    private static PairList<String, Parameter> paramWithGradient(NDManager nd, float[] w, float[] grad) {
        NDArray arr = nd.create(w);
        Parameter p = Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).optArray(arr).build();
        arr.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(arr.mul(nd.create(grad)).sum());
        }
        PairList<String, Parameter> list = new PairList<>();
        list.add("w", p);
        return list;
    }

    @Test
    void globalNormClippingScalesAllGradientsTogether() {
        try (NDManager nd = NDManager.newBaseManager()) {
            PairList<String, Parameter> ps = paramWithGradient(nd, new float[] {0, 0}, new float[] {3, 4});
            assertEquals(5.0, GradientClipping.clipByGlobalNorm(ps, 1.0), 1e-5);
            assertArrayEquals(new float[] {0.6f, 0.8f}, ps.get(0).getValue().getArray().getGradient().toFloatArray(), 1e-5f);
            // negative gradients are clipped symmetrically, unlike DJL's optClipGrad
            PairList<String, Parameter> neg = paramWithGradient(nd, new float[] {0, 0}, new float[] {-3, -4});
            GradientClipping.clipByGlobalNorm(neg, 1.0);
            assertArrayEquals(new float[] {-0.6f, -0.8f}, neg.get(0).getValue().getArray().getGradient().toFloatArray(), 1e-5f);
        }
    }

    @Test
    void adamWFirstStepMovesByLearningRateAndDecays() {
        try (NDManager nd = NDManager.newBaseManager()) {
            PairList<String, Parameter> ps = paramWithGradient(nd, new float[] {1f, -1f}, new float[] {0.5f, -2f});
            AdamW opt = AdamW.standard(nd, 0.1);
            opt.step(ps, 0.1);
            // bias-corrected first step: update = lr · sign(g); decay subtracts lr·wd·w first
            assertArrayEquals(new float[] {1f - 0.01f - 0.1f, -1f + 0.01f + 0.1f},
                    ps.get(0).getValue().getArray().toFloatArray(), 1e-5f);
            assertEquals(1, opt.steps());
            assertEquals(2, opt.state().size());
            assertArrayEquals(new float[] {0f, 0f}, ps.get(0).getValue().getArray().getGradient().toFloatArray(),
                    "step clears the gradients it used");
        }
    }
}
