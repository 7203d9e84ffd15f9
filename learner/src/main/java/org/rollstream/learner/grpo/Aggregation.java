package org.rollstream.learner.grpo;

/** How per-token losses become one number. */
public enum Aggregation {
    /** Sum over every completion token of the batch divided by their count (DAPO): long answers weigh more. */
    TOKEN_MEAN,
    /** Mean over tokens inside each completion, then over completions (original GRPO). */
    SEQUENCE_MEAN
}
