package org.rollstream.tasks.preference;

import java.util.Locale;

/**
 * Which reward-model head a preference pair teaches, and so which text it is judged on (R1's split:
 * helpfulness on the final answer, harmlessness on the whole response).
 */
public enum Aspect {
    /** Judged on the prompt and the final answer only ({@link RewardTexts#helpfulness}). */
    HELPFULNESS,
    /** Judged on the prompt and the whole response, reasoning included ({@link RewardTexts#harmlessness}). */
    HARMLESSNESS,
    /** Both heads learn the pair (pairs from a file that do not say). */
    BOTH;

    /** The lower-case name used in JSONL files. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException naming the known aspects */
    public static Aspect parse(String s) {
        for (Aspect a : values()) {
            if (a.label().equals(s)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown aspect '" + s + "'; known: helpfulness, harmlessness, both");
    }
}
