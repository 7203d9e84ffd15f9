package org.rollstream.policy;


import java.util.List;

/**
 * What {@code InGraphSampler} draws: {@code groupSize} completions of each prompt, one row per
 * completion (row {@code p * groupSize + g} is completion g of prompt p).
 *
 * <p>The distribution of each token is softmax(logits / temperature), restricted to the
 * {@code topK} most probable tokens when topK &gt; 0, then to the nucleus (the most probable
 * tokens, in order, while the mass before them is below {@code topP}; with topK &gt; 0 that mass
 * is of the distribution renormalised over the top-k, as in Hugging Face), and renormalised.
 *
 * <p>With topP &lt; 1 and topK 0 the nucleus is searched among the {@code nucleusCap} most
 * probable tokens: exact whenever it fits in them; where it does not, the draw is from those
 * tokens renormalised (the behaviour log-probs stay those of the distribution actually used), and
 * {@link SampledCompletion#nucleusLimitedSteps()} counts such steps. 0 = no cap (always exact, but
 * ONNX Runtime's CUDA TopK then sorts each row on its own, slowly).
 *
 * @param prompts      token ids of each prompt, each non-empty
 * @param groupSize    completions per prompt, at least 1
 * @param temperature  0 (below 1e-4) = greedy; otherwise &gt; 0
 * @param topP         in (0,1]; 1 = no nucleus
 * @param topK         0 = no top-k, else keep the k most probable tokens
 * @param rowSeeds     one seed per row (prompts x groupSize): the same seed, prompt and weights give the
 *                     same completion, whatever else is in the batch (up to the device's arithmetic)
 * @param maxNewTokens at least 1 (also capped by the context length)
 * @param stopTokenIds tokens that end a completion (kept as its last token); may be empty
 * @param nucleusCap   see above; at least 0
 */
public record SampleRequest(List<int[]> prompts, int groupSize, float temperature, float topP, int topK, long[] rowSeeds,
                            int maxNewTokens, int[] stopTokenIds, int nucleusCap) {
    /** default {@link #nucleusCap}: wide enough for a trained model's nucleus, narrow enough for ONNX Runtime's one-block TopK on CUDA */
    public static final int DEFAULT_NUCLEUS_CAP = 4096;

    /** @throws IllegalArgumentException on any value outside the contract above */
    public SampleRequest {
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("need at least one prompt");
        for (int[] p : prompts) if (p == null || p.length == 0) throw new IllegalArgumentException("empty prompt");
        if (groupSize < 1) throw new IllegalArgumentException("groupSize must be >= 1: " + groupSize);
        if (!(temperature >= 0) || Float.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0 and finite: " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0,1]: " + topP);
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0: " + topK);
        if (nucleusCap < 0) throw new IllegalArgumentException("nucleusCap must be >= 0: " + nucleusCap);
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1: " + maxNewTokens);
        if (rowSeeds == null || rowSeeds.length != prompts.size() * groupSize) {
            throw new IllegalArgumentException("need one seed per row: " + prompts.size() * groupSize + " rows, "
                    + (rowSeeds == null ? 0 : rowSeeds.length) + " seeds");
        }
        prompts = List.copyOf(prompts);
        rowSeeds = rowSeeds.clone();
        stopTokenIds = stopTokenIds == null ? new int[0] : stopTokenIds.clone();
    }

    /** Row seeds derived from one seed: row r gets a distinct stream. */
    public static SampleRequest of(List<int[]> prompts, int groupSize, float temperature, float topP, int topK, long seed,
                                   int maxNewTokens, int... stopTokenIds) {
        return new SampleRequest(prompts, groupSize, temperature, topP, topK, rowSeeds(seed, prompts.size() * groupSize),
                maxNewTokens, stopTokenIds, DEFAULT_NUCLEUS_CAP);
    }

    /** Seeds for {@code rows} rows from one seed (a fixed mix of seed and row index). */
    public static long[] rowSeeds(long seed, int rows) {
        long[] s = new long[rows];
        for (int r = 0; r < rows; r++) s[r] = seed * 0x9E3779B97F4A7C15L + r;
        return s;
    }

    public SampleRequest withNucleusCap(int cap) {
        return new SampleRequest(prompts, groupSize, temperature, topP, topK, rowSeeds, maxNewTokens, stopTokenIds, cap);
    }

    public SampleRequest withRowSeeds(long[] seeds) {
        return new SampleRequest(prompts, groupSize, temperature, topP, topK, seeds, maxNewTokens, stopTokenIds, nucleusCap);
    }

    public int rows() {
        return prompts.size() * groupSize;
    }

    public boolean greedy() {
        return temperature < 1e-4f;
    }
}
