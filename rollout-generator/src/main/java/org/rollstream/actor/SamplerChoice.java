package org.rollstream.actor;

import java.util.Locale;

/**
 * Which decoding loop an actor samples with.
 *
 * <ul>
 *   <li>{@link #HOST}: {@link org.rollstream.policy.OrtSampler}, one ONNX Runtime call per token, the
 *       sampling on the host (the reference implementation; exact top-p over the whole vocabulary;
 *       drops finished rows from the batch as it goes).</li>
 *   <li>{@link #GRAPH}: {@link org.rollstream.policy.InGraphSampler}, the whole loop inside one ONNX
 *       Runtime call per batch (fused graphs on CUDA). Top-p without top-k searches the nucleus among
 *       the 4,096 most probable tokens (counted in {@link ActorStats#nucleusLimitedSteps()} where that
 *       cuts it); every row decodes until the whole batch has finished.</li>
 *   <li>{@link #AUTO}: GRAPH on CUDA; on the CPU the loop measured faster for the actor's settings
 *       (see {@link #resolve}).</li>
 * </ul>
 * The two loops draw from the same distributions but from different random streams: the same seed gives
 * reproducible completions within one choice, not the same completions across choices.
 */
public enum SamplerChoice {
    HOST, GRAPH, AUTO;

    /** @throws IllegalArgumentException naming the accepted values */
    public static SamplerChoice parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("sampler must be host, graph or auto, got '" + s + "'");
        }
    }

    /**
     * The loop AUTO stands for: GRAPH on CUDA (the host loop copies the KV cache to and from the
     * device every token); on the CPU, GRAPH (measured, tiny preset, 2 cores: see policy/README.md,
     * "Actors").
     *
     * @param cuda whether the actor runs on a CUDA device
     */
    public SamplerChoice resolve(boolean cuda, float topP, int topK) {
        if (this != AUTO) {
            return this;
        }
        return GRAPH;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
