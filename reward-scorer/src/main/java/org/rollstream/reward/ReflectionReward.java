package org.rollstream.reward;

import org.rollstream.tasks.Answers;
import org.rollstream.tasks.Reflection;
import org.rollstream.tasks.Task;
import org.rollstream.tasks.TaskRegistry;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Self-reflection credit (DeepSeek-R1's stage 2) for a verified check step inside {@code <think>},
 * in the grammar of {@link Reflection}: {@code check: CLAIM ok} or {@code check: CLAIM no [WORK] FIXED}.
 * Whether a check is true is decided by the task's own verifier, never by the words used, so
 * "let me check" earns nothing. Scores:
 * <ul>
 *   <li>{@code 1.0}: at least one {@code no} check, every check true (each rejected candidate
 *       really wrong, each correction really right), and the final answer is the last check's
 *       conclusion: a real correction;</li>
 *   <li>{@code confirm} (option, default {@code 0.5}): the same with only {@code ok} checks: a
 *       right answer that was checked and confirmed;</li>
 *   <li>{@code -penalty} (option, default {@code 0}, so the reward stays in [0, 1]): any check that
 *       is false ({@code ok} on a wrong candidate, {@code no} on a right one, a wrong correction) or
 *       does not follow the grammar;</li>
 *   <li>{@code 0}: no check step, no {@code <think>} or answer, or true checks whose conclusion the
 *       final answer ignores.</li>
 * </ul>
 * Known limit: the reward cannot tell whether a rejected candidate is what the earlier reasoning
 * really produced, so a policy could plant a wrong candidate just to correct it. With
 * {@code confirm < 1} that pays more than an honest confirmation; {@code reflection.confirm=1}
 * removes the incentive (then both earn the same). Unknown tasks and records missing their
 * verification spec throw, as in {@link AccuracyReward}.
 */
public final class ReflectionReward implements RewardFunction {

    public static final String NAME = "reflection";
    public static final double DEFAULT_CONFIRM = 0.5;
    public static final double DEFAULT_PENALTY = 0.0;

    private final TaskRegistry tasks;
    private final double confirm;
    private final double penalty;

    public ReflectionReward() {
        this(TaskRegistry.defaults(), DEFAULT_CONFIRM, DEFAULT_PENALTY);
    }

    /** @throws IllegalArgumentException unless {@code confirm} is in [0, 1] and {@code penalty} in [0, 1] */
    public ReflectionReward(TaskRegistry tasks, double confirm, double penalty) {
        if (!(confirm >= 0 && confirm <= 1) || !(penalty >= 0 && penalty <= 1)) {
            throw new IllegalArgumentException("reflection.confirm and reflection.penalty must be in [0, 1], got "
                    + confirm + " and " + penalty);
        }
        this.tasks = tasks;
        this.confirm = confirm;
        this.penalty = penalty;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RewardFunction withOptions(Map<String, String> options) {
        for (String k : options.keySet()) {
            if (!Set.of("confirm", "penalty").contains(k)) {
                throw new IllegalArgumentException("reward '" + NAME + "' knows options 'confirm' and 'penalty', not '" + k + "'");
            }
        }
        return options.isEmpty() ? this : new ReflectionReward(tasks, number(options, "confirm", confirm), number(options, "penalty", penalty));
    }

    private static double number(Map<String, String> options, String key, double fallback) {
        String v = options.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(NAME + "." + key + " is not a number: " + v);
        }
    }

    @Override
    public double score(RewardInput in) {
        Task task = tasks.resolve(in.task());
        Optional<String> think = Reflection.think(in.completion());
        Optional<String> answer = Answers.extract(in.completion());
        if (think.isEmpty() || answer.isEmpty()) {
            return 0.0;
        }
        List<Optional<Reflection.Check>> checks = Reflection.parse(think.get(), in.prompt());
        if (checks.isEmpty()) {
            return 0.0;
        }
        boolean corrected = false;
        for (Optional<Reflection.Check> c : checks) {
            if (c.isEmpty() || !Reflection.holds(task, in.instance(), c.get())) {
                return penalty == 0 ? 0.0 : -penalty;
            }
            corrected |= !c.get().confirmed();
        }
        String conclusion = checks.get(checks.size() - 1).orElseThrow().conclusion();
        if (!Answers.equivalent(answer.get(), conclusion)) {
            return 0.0;
        }
        return corrected ? 1.0 : confirm;
    }
}
