package org.rollstream.policy;

/**
 * One completion.
 *
 * @param tokenIds     generated tokens only (the stop token included when finishReason is STOP)
 * @param text         decoded completion without the stop token; null when the sampler has no tokenizer
 * @param logProbs     for each generated token, log p(token | prefix) under the policy at
 *                     temperature 1 (log-softmax of the raw logits), whatever temperature/top-p
 *                     were used to draw it: the behaviour log-probs GRPO's importance ratios use
 *                     at temperature 1, and comparable with {@link DjlPolicy#tokenLogProbs}
 * @param finishReason STOP or LENGTH
 */
public record SampledSequence(int[] tokenIds, String text, float[] logProbs, FinishReason finishReason) {
    public int length() {
        return tokenIds.length;
    }
}
