package org.rollstream.tasks.preference;

import java.util.Objects;

/**
 * One human-style judgement: for {@code prompt}, completion {@code chosen} is preferred to
 * {@code rejected}.
 *
 * @param prompt   the prompt text, as the policy sees it
 * @param chosen   the preferred completion
 * @param rejected the other completion
 * @param aspect   which head learns the pair
 * @param rule     for built-in pairs, the rule {@code rejected} violates (e.g. {@code harmful}); empty for pairs from a file
 */
public record PreferencePair(String prompt, String chosen, String rejected, Aspect aspect, String rule) {

    public PreferencePair {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(chosen, "chosen");
        Objects.requireNonNull(rejected, "rejected");
        Objects.requireNonNull(aspect, "aspect");
        rule = rule == null ? "" : rule;
        if (prompt.isEmpty() || chosen.isEmpty() || rejected.isEmpty()) {
            throw new IllegalArgumentException("prompt, chosen and rejected must be non-empty");
        }
    }
}
