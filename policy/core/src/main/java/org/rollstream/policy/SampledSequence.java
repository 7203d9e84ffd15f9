package org.rollstream.policy;


/**
 * One completion.
 *
 * @param tokenIds       generated tokens only (the stop token included when finishReason is STOP)
 * @param text           decoded completion without the stop token; null when the sampler has no tokenizer
 * @param logProbs       behaviour log-probs: for each generated token, the log of its probability under
 *                       the distribution that drew it (softmax(logits / T) cut to top-k and the top-p
 *                       nucleus, renormalised; 0 for greedy decoding, a point mass). These are the μ of
 *                       GRPO's importance weights.
 * @param policyLogProbs for each generated token, log p(token | prefix) under the raw policy (log-softmax
 *                       of the logits at temperature 1, no cut), comparable with {@code DjlPolicy.tokenLogProbs}
 * @param finishReason   STOP or LENGTH
 */
public record SampledSequence(int[] tokenIds, String text, float[] logProbs, float[] policyLogProbs, FinishReason finishReason) {
    public SampledSequence {
        if (logProbs.length != tokenIds.length || policyLogProbs.length != tokenIds.length) {
            throw new IllegalArgumentException("one behaviour and one policy log-prob per token: " + tokenIds.length
                    + " tokens, " + logProbs.length + " and " + policyLogProbs.length + " log-probs");
        }
    }

    public int length() {
        return tokenIds.length;
    }
}
