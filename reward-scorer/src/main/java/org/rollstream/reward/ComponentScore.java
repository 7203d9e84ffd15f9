package org.rollstream.reward;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One completion's value from a {@link GroupRewardFunction}, with the named sub-scores an
 * external scorer may report beside it (e.g. {@code helpfulness}, {@code safety}). Sub-scores are
 * recorded as {@code <reward>.<part>} components for inspection; only {@code value} enters the total.
 *
 * @throws IllegalArgumentException when a value is not finite
 */
public record ComponentScore(double value, Map<String, Double> parts) {
    public ComponentScore {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("reward value " + value + " is not finite");
        }
        Map<String, Double> copy = new LinkedHashMap<>();
        if (parts != null) {
            parts.forEach((k, v) -> {
                if (v == null || !Double.isFinite(v)) {
                    throw new IllegalArgumentException("component '" + k + "' is " + v + ", not a finite number");
                }
                copy.put(k, v);
            });
        }
        parts = Collections.unmodifiableMap(copy);
    }

    public static ComponentScore of(double value) {
        return new ComponentScore(value, Map.of());
    }
}
