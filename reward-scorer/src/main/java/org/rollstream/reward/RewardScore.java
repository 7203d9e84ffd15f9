package org.rollstream.reward;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** One completion's unweighted components (in configuration order) and their weighted sum. */
public record RewardScore(Map<String, Double> components, double total) {

    public RewardScore {
        components = Collections.unmodifiableMap(new LinkedHashMap<>(components));
    }
}
