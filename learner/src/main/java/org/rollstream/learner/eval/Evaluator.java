package org.rollstream.learner.eval;

import java.util.ArrayList;
import java.util.List;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Tokenizer;
import org.rollstream.tasks.Answers;
import org.rollstream.tasks.Task;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;

/** Held-out evaluation: greedy accuracy, share of well-formed answers and mean response length. */
public final class Evaluator {
    private final Tokenizer tokenizer;
    private final TaskRegistry tasks;
    private final int maxNewTokens;

    /** Figures of one evaluation. */
    public record Result(int problems, double accuracy, double formatRate, double meanResponseTokens) {
    }

    public Evaluator(Tokenizer tokenizer, TaskRegistry tasks, int maxNewTokens) {
        this.tokenizer = tokenizer;
        this.tasks = tasks;
        this.maxNewTokens = maxNewTokens;
    }

    public Result evaluate(DjlPolicy policy, List<TaskInstance> heldOut) {
        if (heldOut.isEmpty()) {
            throw new IllegalArgumentException("the held-out split is empty: nothing to evaluate");
        }
        List<int[]> prompts = new ArrayList<>(heldOut.size());
        for (TaskInstance inst : heldOut) {
            prompts.add(PromptTokens.encode(tokenizer, inst.text()));
        }
        List<int[]> outputs = new GreedyDecoder(policy, tokenizer.pad(), tokenizer.eos()).decode(prompts, maxNewTokens);
        int correct = 0;
        int wellFormed = 0;
        long tokens = 0;
        for (int i = 0; i < heldOut.size(); i++) {
            TaskInstance inst = heldOut.get(i);
            String text = tokenizer.decode(outputs.get(i));
            tokens += outputs.get(i).length;
            var answer = Answers.extract(text);
            if (answer.isPresent()) {
                wellFormed++;
                Task task = tasks.resolve(inst.task());
                if (task.isCorrect(inst, answer.get())) {
                    correct++;
                }
            }
        }
        int n = heldOut.size();
        return new Result(n, (double) correct / n, (double) wellFormed / n, (double) tokens / n);
    }
}
