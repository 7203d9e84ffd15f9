package org.rollstream.reward.rejection;

/**
 * What rejection sampling keeps (DeepSeek-R1 stage 3). A completion is kept when it stopped by itself
 * (not truncated), is well-formed, is correct by the task's verifier, writes its reasoning in the
 * target script, is {@code minTokens..maxTokens} tokens long, is not a duplicate of a completion
 * already kept for its prompt, and its prompt has fewer than {@code maxPerPrompt} kept; optionally
 * only prompts whose group pass rate (share of correct completions) lies in {@code [passLow, passHigh]}.
 *
 * @param maxPerPrompt m, the most samples kept per prompt (≥ 1)
 * @param minTokens    shortest completion kept, in tokens ({@code <eos>} excluded)
 * @param maxTokens    longest completion kept, in tokens
 * @param minLanguage  least share of reasoning letters in {@code language} (1.0: all of them)
 * @param language     target script or language code, as for the {@code language} reward
 * @param passLow      lower end of the pass-rate band, or NaN for no band
 * @param passHigh     upper end of the pass-rate band, or NaN for no band
 */
public record RejectionSettings(int maxPerPrompt, int minTokens, int maxTokens, double minLanguage, String language,
                                double passLow, double passHigh) {
    public static final int DEFAULT_MAX_PER_PROMPT = 2;
    public static final int DEFAULT_MIN_TOKENS = 1;
    public static final int DEFAULT_MAX_TOKENS = 40;

    public RejectionSettings {
        require(maxPerPrompt >= 1, "at most m samples per prompt: m must be at least 1, got " + maxPerPrompt);
        require(minTokens >= 0 && maxTokens >= minTokens,
                "length bounds must satisfy 0 <= min <= max, got " + minTokens + ".." + maxTokens);
        require(minLanguage >= 0 && minLanguage <= 1, "language share must be in [0, 1], got " + minLanguage);
        require(language != null && !language.isBlank(), "a target language is required (e.g. LATIN)");
        require(Double.isNaN(passLow) == Double.isNaN(passHigh), "a pass-rate band needs both ends, or neither");
        require(Double.isNaN(passLow) || (passLow >= 0 && passLow <= passHigh && passHigh <= 1),
                "pass-rate band must satisfy 0 <= lo <= hi <= 1, got [" + passLow + ", " + passHigh + "]");
    }

    /** m = 2, 1..40 tokens, every reasoning letter Latin, no pass-rate band. */
    public static RejectionSettings defaults() {
        return new RejectionSettings(DEFAULT_MAX_PER_PROMPT, DEFAULT_MIN_TOKENS, DEFAULT_MAX_TOKENS, 1.0, "LATIN",
                Double.NaN, Double.NaN);
    }

    public RejectionSettings withMaxPerPrompt(int m) {
        return new RejectionSettings(m, minTokens, maxTokens, minLanguage, language, passLow, passHigh);
    }

    public RejectionSettings withLength(int min, int max) {
        return new RejectionSettings(maxPerPrompt, min, max, minLanguage, language, passLow, passHigh);
    }

    /** Keeps only prompts whose group pass rate lies in [lo, hi]. */
    public RejectionSettings withPassBand(double lo, double hi) {
        return new RejectionSettings(maxPerPrompt, minTokens, maxTokens, minLanguage, language, lo, hi);
    }

    public boolean hasPassBand() {
        return !Double.isNaN(passLow);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
