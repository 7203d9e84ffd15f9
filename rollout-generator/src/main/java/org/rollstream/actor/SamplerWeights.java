package org.rollstream.actor;

import java.util.Locale;

/**
 * How the in-graph sampler ({@link SamplerChoice#GRAPH}) takes a new version's weights.
 *
 * <ul>
 *   <li>{@link #INITIALIZERS}: a session per version with the weights as initializers; the hand-over
 *       builds that session (ONNX Runtime's graph optimisation and the copy to the device).</li>
 *   <li>{@link #INPUTS}: one session per actor whose graph takes the weights as inputs
 *       ({@link org.rollstream.policy.ort.WeightFedSessions}), fed the serving version's tensors at
 *       every batch; the hand-over builds no session, each batch copies the weights to the device.</li>
 *   <li>{@link #AUTO}: INPUTS on CUDA, INITIALIZERS on the CPU, where weights fed as inputs lose
 *       ONNX Runtime's packing of constant weights and a hand-over is cheap anyway.</li>
 * </ul>
 * The host loop always builds a session per version (it runs once per token).
 */
public enum SamplerWeights {
    INITIALIZERS, INPUTS, AUTO;

    /** @throws IllegalArgumentException naming the accepted values */
    public static SamplerWeights parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("sampler weights must be initializers, inputs or auto, got '" + s + "'");
        }
    }

    /** Whether the weights go in as inputs, on a CUDA device or not. */
    public boolean asInputs(boolean cuda) {
        return this == INPUTS || (this == AUTO && cuda);
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
