package org.rollstream.launcher.pipeline;

/** Figure names shared by the stages, so the pipeline report can put them in one table. */
public final class Metrics {
    /** Held-out accuracy of the stage's policy, a fraction. */
    public static final String ACCURACY = "accuracy";
    /** Share of held-out completions in {@code <think>…</think><answer>…</answer>} form. */
    public static final String FORMAT_RATE = "format-rate";
    /** Share of held-out completions that stay in the prompt's language/alphabet. */
    public static final String LANGUAGE_CONSISTENCY = "language-consistency";
    /** Mean held-out response length in tokens. */
    public static final String RESPONSE_TOKENS = "response-tokens";
    /** Mean reward-model score on held-out general prompts. */
    public static final String RM_SCORE = "rm-score";
    /** Mean reward-model score of completions sampled at temperature 1 on held-out general prompts (the policy's expected score). */
    public static final String RM_SCORE_SAMPLED = "rm-score-sampled";
    /** Samples kept by rejection sampling. */
    public static final String SAMPLES_KEPT = "samples-kept";
    /** Wall time of the stage in seconds. */
    public static final String SECONDS = "seconds";

    private Metrics() {
    }
}
