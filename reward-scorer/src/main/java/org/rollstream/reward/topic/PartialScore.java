package org.rollstream.reward.topic;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One external scorer's component for one group, as read from {@code rewards.partial} (Avro
 * {@code PartialReward} or its JSON variant, see {@link PartialRewardCodec}).
 *
 * @param groupId   the sampled group
 * @param component the component name the scorer waits for
 * @param rewards   one value per completion; empty when {@code error} is set
 * @param parts     optional named sub-scores, one value per completion each
 * @param error     non-empty: the external scorer declares it cannot score this group
 * @param scorer    who wrote it
 */
public record PartialScore(String groupId, String component, List<Double> rewards, Map<String, List<Double>> parts,
                           String error, String scorer) {
    public PartialScore {
        if (groupId == null || groupId.isBlank()) {
            throw new IllegalArgumentException("partial reward has no group id");
        }
        if (component == null || component.isBlank()) {
            throw new IllegalArgumentException("partial reward for group " + groupId + " has no component name");
        }
        rewards = rewards == null ? List.of() : List.copyOf(rewards);
        Map<String, List<Double>> copy = new LinkedHashMap<>();
        if (parts != null) {
            parts.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        }
        parts = Collections.unmodifiableMap(copy);
        error = error == null ? "" : error;
        scorer = scorer == null ? "" : scorer;
        if (error.isEmpty() && rewards.isEmpty()) {
            throw new IllegalArgumentException("partial reward " + component + " for group " + groupId + " has neither rewards nor an error");
        }
    }

    public boolean failed() {
        return !error.isEmpty();
    }
}
