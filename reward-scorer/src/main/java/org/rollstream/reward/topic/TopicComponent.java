package org.rollstream.reward.topic;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;

import org.rollstream.reward.ComponentMissingException;
import org.rollstream.reward.ComponentScore;
import org.rollstream.reward.ExternalOptions;
import org.rollstream.reward.GroupRewardFunction;
import org.rollstream.reward.RewardException;
import org.rollstream.reward.RewardInput;
import org.rollstream.reward.RewardUnavailableException;

/**
 * A reward component computed outside the scorer by any program that reads
 * {@code rollouts.sampled} and writes a {@code PartialReward} (or its JSON variant) keyed by group
 * id to {@code rewards.partial}; the scorer waits for it in a {@link ComponentJoin}.
 *
 * <p>Configured as {@code judge=0.5,judge.type=topic} plus options: {@code component} (the name on
 * the topic; default the reward's name), {@code deadline} (how long a group waits, default 30s)
 * and {@code missing}, the declared policy when the deadline passes:
 * <ul>
 *   <li>{@code retry} (default): {@link RewardUnavailableException}; the group is delivered again
 *       after a backoff (a late component is still found) and dead-lettered when retries are spent;</li>
 *   <li>{@code dead-letter}: the group is dead-lettered at once with the reason;</li>
 *   <li>{@code skip}: the group is scored with the other components; this one has no entry in its
 *       scores and no term in the total.</li>
 * </ul>
 * A component that arrives with an error, the wrong number of values or a non-finite value
 * dead-letters the group with the reason. Never a zero in its place.
 */
public final class TopicComponent implements GroupRewardFunction {
    public static final String TYPE = "topic";
    private static final Set<String> OPTIONS = Set.of("component", "deadline", "missing");

    /** What to do when the component misses its deadline. */
    public enum Missing { RETRY, DEAD_LETTER, SKIP }

    private final String name;
    private final String component;
    private final Duration deadline;
    private final Missing missing;
    private final ComponentJoin join;

    private TopicComponent(ExternalOptions o, ComponentJoin join) {
        o.checkKnown(OPTIONS);
        this.name = o.reward();
        this.component = o.string("component", name);
        this.deadline = o.duration("deadline", Duration.ofSeconds(30), false);
        this.missing = Missing.valueOf(o.choice("missing", "retry", "retry", "dead-letter", "skip").replace('-', '_').toUpperCase());
        this.join = join;
    }

    /** @param join where components arrive; null outside a running scorer service */
    public static TopicComponent create(ExternalOptions options, ComponentJoin join) {
        return new TopicComponent(options, join);
    }

    @Override
    public String name() {
        return name;
    }

    /** The component name awaited on {@code rewards.partial}. */
    public String component() {
        return component;
    }

    @Override
    public List<ComponentScore> scoreGroup(List<RewardInput> group) {
        String groupId = group.isEmpty() ? "" : group.get(0).groupId();
        if (groupId.isEmpty()) {
            throw new RewardException(name, "the group has no id to join component '" + component + "' on", null);
        }
        if (join == null) {
            throw new RewardException(name, "no rewards.partial feed in this scorer (topic components need the scorer service)", null);
        }
        PartialScore p;
        try {
            p = join.await(groupId, component, deadline);
        } catch (TimeoutException e) {
            String why = "component '" + component + "' of group " + groupId + " not on rewards.partial within " + deadline.toMillis() + " ms";
            switch (missing) {
                case RETRY -> throw new RewardUnavailableException(name, why, null);
                case SKIP -> throw new ComponentMissingException(name, why);
                default -> throw new RewardException(name, why, null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RewardUnavailableException(name, "interrupted while waiting for component '" + component + "'", e);
        }
        return toScores(p, group.size());
    }

    private List<ComponentScore> toScores(PartialScore p, int n) {
        String from = p.scorer().isEmpty() ? "" : " (from " + p.scorer() + ")";
        if (p.failed()) {
            throw new RewardException(name, "external scorer could not score group " + p.groupId() + from + ": " + p.error(), null);
        }
        if (p.rewards().size() != n) {
            throw new RewardException(name, "component '" + component + "' of group " + p.groupId() + from + " has "
                    + p.rewards().size() + " rewards for " + n + " completions", null);
        }
        for (Map.Entry<String, List<Double>> e : p.parts().entrySet()) {
            if (e.getValue().size() != n) {
                throw new RewardException(name, "part '" + e.getKey() + "' of group " + p.groupId() + from + " has "
                        + e.getValue().size() + " values for " + n + " completions", null);
            }
        }
        List<ComponentScore> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Map<String, Double> parts = new LinkedHashMap<>();
            int idx = i;
            p.parts().forEach((k, v) -> parts.put(k, v.get(idx)));
            try {
                out.add(new ComponentScore(p.rewards().get(i), parts));
            } catch (IllegalArgumentException e) {
                throw new RewardException(name, "group " + p.groupId() + from + " completion " + i + ": " + e.getMessage(), e);
            }
        }
        return out;
    }
}
