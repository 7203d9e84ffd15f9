package org.rollstream.policy;


/**
 * One completion drawn by {@code InGraphSampler}.
 *
 * @param tokenIds            generated tokens only; the stop token included (last) when finishReason is STOP
 * @param logProbs            behaviour log-probs: for each token, its log-probability under the distribution that
 *                            drew it (softmax(logits / T) restricted to top-k and the nucleus, renormalised;
 *                            0 when greedy)
 * @param policyLogProbs      for each token, log-softmax of the raw logits (the policy at temperature 1), comparable
 *                            with {@code DjlPolicy.tokenLogProbs}
 * @param finishReason        STOP or LENGTH
 * @param nucleusLimitedSteps steps (of this completion) whose nucleus did not fit in the nucleus cap, so it was cut
 *                            to the cap's tokens (0 unless top-p &lt; 1 with top-k 0)
 */
public record SampledCompletion(int[] tokenIds, float[] logProbs, float[] policyLogProbs, FinishReason finishReason,
                                int nucleusLimitedSteps) {
    public int length() {
        return tokenIds.length;
    }
}
