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
        try (Gradients g = Gradients.ofParameters(parameters)) {
            scale(g, factor);
        }
    }

    /** Multiplies every gradient by {@code factor} in place (undoing a loss scale). */
    public static void scale(Gradients gradients, double factor) {
        for (Gradients.Entry e : gradients.entries()) {
            e.gradient().muli((float) factor);
        }
    }

    /** Scales all gradients so their joint L2 norm is at most {@code maxNorm}; returns the norm before clipping. */
    public static double clipByGlobalNorm(PairList<String, Parameter> parameters, double maxNorm) {
        try (Gradients g = Gradients.ofParameters(parameters)) {
            return clipByGlobalNorm(g, maxNorm);
        }
    }

    /**
     * Scales all gradients so their joint L2 norm is at most {@code maxNorm} (0: no clipping);
     * returns the norm before clipping, not finite when any gradient is not.
     */
    public static double clipByGlobalNorm(Gradients gradients, double maxNorm) {
        double sumSquares;
        try (NDScope scope = new NDScope()) {
            // summed on the device, read once: one host synchronisation per update, not one per parameter
            NDArray total = null;
            for (Gradients.Entry e : gradients.entries()) {
                NDArray s = e.gradient().square().sum();
                total = total == null ? s : total.add(s);
            }
            sumSquares = total == null ? 0 : total.getFloat();
        }
        double norm = Math.sqrt(sumSquares);
        if (maxNorm > 0 && norm > maxNorm && Double.isFinite(norm)) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            for (Gradients.Entry e : gradients.entries()) {
                e.gradient().muli(scale);
            }
        }
        return norm;
    }
}
