package org.rollstream.reward;

import org.rollstream.tasks.Answers;
import org.rollstream.tasks.TaskRegistry;

import java.util.Optional;

/**
 * 1.0 when the text of the last {@code <answer>} is accepted by the task's own verifier (numeric
 * equivalence for arithmetic and user data, exact expression evaluation for countdown), else 0.0,
 * also when there is no answer. An unknown task or a record missing its verification spec throws:
 * that is a broken record, not a wrong answer.
 */
public final class AccuracyReward implements RewardFunction {

    public static final String NAME = "accuracy";
    private final TaskRegistry tasks;

    public AccuracyReward() {
        this(TaskRegistry.defaults());
    }

    public AccuracyReward(TaskRegistry tasks) {
        this.tasks = tasks;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public double score(RewardInput in) {
        var task = tasks.resolve(in.task());
        Optional<String> answer = Answers.extract(in.completion());
        return answer.isPresent() && task.isCorrect(in.instance(), answer.get()) ? 1.0 : 0.0;
    }
}
