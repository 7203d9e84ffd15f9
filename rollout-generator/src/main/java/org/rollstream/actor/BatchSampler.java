package org.rollstream.actor;

import java.util.List;

import org.rollstream.policy.SampledSequence;
import org.rollstream.policy.SamplingParams;

/**
 * How one loaded version draws a batch's completions. Implementations use the sessions of the
 * version's {@link org.rollstream.policy.OrtPolicy} only, so closing that policy frees everything.
 */
interface BatchSampler {
    /**
     * @return for each prompt in order, its {@code groupSize} completions (text without the stop token),
     *         and the steps whose nucleus was cut to the sampler's cap
     * @throws IllegalArgumentException a prompt the model cannot take (callers check prompts first)
     * @throws IllegalStateException    ONNX Runtime failed or the policy is closed; nothing leaks
     */
    Batch sample(List<int[]> prompts, int groupSize, SamplingParams params);

    /** The loop this is ({@code host} or {@code graph}), for logs. */
    SamplerChoice kind();

    /** A batch's completions and its count of nucleus-capped steps (always 0 for the host loop). */
    record Batch(List<List<SampledSequence>> groups, long nucleusLimitedSteps) {
    }
}
