package org.rollstream.policy;

/**
 * How the sampler draws each token: from softmax(logits / temperature), cut to the {@code topK}
 * most likely tokens (0 = no cut) and then to the smallest top-p nucleus, renormalised.
 *
 * @param temperature  0 (or below 1e-4) = greedy argmax; otherwise logits are divided by it before sampling
 * @param topP         nucleus mass in (0,1]; 1 disables the cut
 * @param maxNewTokens cap on generated tokens (also capped by the context length)
 * @param stopTokenIds tokens that end a sequence (kept as its last token); empty = the tokenizer's eos if the sampler has a tokenizer
 * @param seed         same seed, prompts and weights = same completions, whatever the batch composition
 * @param topK         keep only the k most likely tokens before the top-p cut; 0 = all
 */
public record SamplingParams(float temperature, float topP, int maxNewTokens, int[] stopTokenIds, long seed, int topK) {
    public SamplingParams {
        if (temperature < 0 || Float.isNaN(temperature) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0: " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0,1]: " + topP);
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1: " + maxNewTokens);
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0 (0 = no cut): " + topK);
        stopTokenIds = stopTokenIds == null ? new int[0] : stopTokenIds.clone();
    }

    /** No top-k cut. */
    public SamplingParams(float temperature, float topP, int maxNewTokens, int[] stopTokenIds, long seed) {
        this(temperature, topP, maxNewTokens, stopTokenIds, seed, 0);
    }

    public static SamplingParams of(float temperature, int maxNewTokens, long seed, int... stopTokenIds) {
        return new SamplingParams(temperature, 1f, maxNewTokens, stopTokenIds, seed, 0);
    }

    public SamplingParams withTopP(float p) {
        return new SamplingParams(temperature, p, maxNewTokens, stopTokenIds, seed, topK);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, topP, maxNewTokens, stopTokenIds, seed, k);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topP, maxNewTokens, stopTokenIds, s, topK);
    }

    public boolean greedy() {
        return temperature < 1e-4f;
    }
}
