package org.rollstream.learner.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;

/**
 * Clips gradients by their global L2 norm. DJL's {@code optClipGrad} clamps each value from above
 * only, which neither bounds the norm nor treats negative gradients symmetrically.
 */
public final class GradientClipping {
    private GradientClipping() {
    }

    /**
     * Resets every gradient to zero. Arithmetic zeroing ({@code g − g}, {@code g · 0}) would keep a
     * NaN forever, so the engine's own reset is used.
     */
    public static void zero(PairList<String, Parameter> parameters) {
        for (Pair<String, Parameter> p : parameters) {
            NDArray w = p.getValue().getArray();
            if (w.hasGradient()) {
                JniUtils.zeroGrad((PtNDArray) w);
            }
        }
    }

    /** Multiplies every gradient by {@code factor} in place (undoing a loss scale). */
    public static void scale(PairList<String, Parameter> parameters, double factor) {
        for (Pair<String, Parameter> p : parameters) {
            NDArray w = p.getValue().getArray();
            if (w.hasGradient()) {
                try (NDArray g = w.getGradient()) {
                    g.muli((float) factor);
                }
            }
        }
    }

    /** Scales all gradients so their joint L2 norm is at most {@code maxNorm}; returns the norm before clipping. */
    public static double clipByGlobalNorm(PairList<String, Parameter> parameters, double maxNorm) {
        double sumSquares = 0;
        try (NDScope scope = new NDScope()) {
            // summed on the device, read once: one host synchronisation per update, not one per parameter
            NDArray total = null;
            for (Pair<String, Parameter> p : parameters) {
                NDArray w = p.getValue().getArray();
                if (w.hasGradient()) {
                    NDArray s = w.getGradient().square().sum();
                    total = total == null ? s : total.add(s);
                }
            }
            sumSquares = total == null ? 0 : total.getFloat();
        }
        double norm = Math.sqrt(sumSquares);
        if (maxNorm > 0 && norm > maxNorm && Double.isFinite(norm)) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            for (Pair<String, Parameter> p : parameters) {
                NDArray w = p.getValue().getArray();
                if (w.hasGradient()) {
                    w.getGradient().muli(scale);
                }
            }
        }
        return norm;
    }
}
