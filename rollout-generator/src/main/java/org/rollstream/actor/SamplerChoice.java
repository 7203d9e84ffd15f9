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
 *   <li>{@link #AUTO}: GRAPH, on CUDA and on the CPU (measured faster or even there: see {@link #resolve}).</li>
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
     * The loop this choice stands for: AUTO is GRAPH on every device. On CUDA the host loop copies
     * the KV cache between host and device every token (about 100x slower on an H200). On the CPU
     * (tiny preset, 2 shared cores, medians of 7 runs, six rounds side by side) the in-graph loop
     * was faster in the sampler benchmark at top-p 1 in every round (median 1.31x) and about even at
     * top-p 0.9 (median 1.06x), and an actor served the same within the (large) noise with either;
     * figures in policy/README.md, "Actors".
     */
    public SamplerChoice resolve() {
        return this == AUTO ? GRAPH : this;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
