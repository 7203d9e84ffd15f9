package org.rollstream.reward;

import java.util.List;

/**
 * A reward computed for all completions of a group in one call: a batch POST to an HTTP scorer, a
 * batch through a reward model, a component joined from an external scorer's topic. It may block
 * (the scorer runs rewards off Reactor's non-blocking threads) and must be thread-safe.
 *
 * <p>Failures are typed, and none of them is ever turned into a zero:
 * <ul>
 *   <li>{@link RewardUnavailableException}: the scorer cannot answer now (down, timing out, circuit
 *       open); the scorer service delivers the group again later, then dead-letters it.</li>
 *   <li>{@link ComponentMissingException}: an awaited component did not come and its declared
 *       policy is to score with the rest; the component is left out of the group's scores.</li>
 *   <li>any other exception: the answer is unusable (wrong count, NaN, not JSON, 4xx); the group
 *       is dead-lettered with the reason.</li>
 * </ul>
 */
public interface GroupRewardFunction extends RewardFunction {

    /**
     * @param group the completions of one group, in order; all share a group id and problem
     * @return one score per input, same order
     */
    List<ComponentScore> scoreGroup(List<RewardInput> group);

    /** A group of one. */
    @Override
    default double score(RewardInput in) {
        List<ComponentScore> out = scoreGroup(List.of(in));
        if (out.size() != 1) {
            throw new IllegalStateException(name() + " returned " + out.size() + " scores for 1 completion");
        }
        return out.get(0).value();
    }
}
