package org.rollstream.launcher.pipeline;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.rollstream.learner.eval.GreedyDecoder;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.reward.FinishReason;
import org.rollstream.reward.LanguageReward;
import org.rollstream.reward.RewardInput;
import org.rollstream.tasks.Answers;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;

/**
 * The shared held-out evaluation of a weights file, so every stage reports comparable figures:
 * greedy decoding with the DJL model (as the learner evaluates), then accuracy (the task's verifier
 * on the last {@code <answer>}), format rate (a complete {@code <answer>…</answer>} was found, the
 * learner's rule), language consistency ({@link LanguageReward} = 1, every letter of the reasoning in
 * the Latin script) and mean response length in tokens.
 *
 * <p>Use {@link #heldOut(String, long, int)} for the problems: with the pipeline's seed it is exactly
 * the held-out list the stage-2 learner evaluates on, so accuracies of all stages compare.
 */
public final class PolicyEvaluation {
    /** Greedy completion budget, the learner's default. */
    public static final int MAX_NEW_TOKENS = 48;
    private static final LanguageReward LANGUAGE = new LanguageReward("LATIN");

    /** Figures of one evaluation; fractions in [0, 1]. */
    public record Result(int problems, double accuracy, double formatRate, double languageConsistency,
                         double responseTokens) {
        /** The figures under {@link Metrics} keys. */
        public Map<String, Double> metrics() {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put(Metrics.ACCURACY, accuracy);
            m.put(Metrics.FORMAT_RATE, formatRate);
            m.put(Metrics.LANGUAGE_CONSISTENCY, languageConsistency);
            m.put(Metrics.RESPONSE_TOKENS, responseTokens);
            return m;
        }
    }

    private PolicyEvaluation() {
    }

    /**
     * The first {@code size} held-out problems of built-in {@code task} for {@code seed}: the list a
     * learner with that seed and eval size evaluates on (generated the same way).
     */
    public static List<TaskInstance> heldOut(String task, long seed, int size) {
        TaskRegistry tasks = TaskRegistry.defaults();
        return TaskDataset.generated(tasks.resolve(task), seed, 10_000, size).heldOut();
    }

    /** Evaluates the safetensors snapshot {@code weights} (spec from its metadata) on {@code problems}. */
    public static Result evaluate(Path weights, List<TaskInstance> problems) {
        WeightSnapshot snap = WeightSnapshot.open(weights);
        return evaluate(snap.load(), snap.spec(), problems, MAX_NEW_TOKENS);
    }

    /** Evaluates {@code weights} of {@code spec} on {@code problems}, greedy, at most {@code maxNewTokens} each. */
    public static Result evaluate(Weights weights, ModelSpec spec, List<TaskInstance> problems, int maxNewTokens) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("nothing to evaluate: the problem list is empty");
        }
        Tokenizer tokenizer = CharTokenizer.builtin();
        TaskRegistry tasks = TaskRegistry.defaults();
        List<int[]> prompts = new ArrayList<>(problems.size());
        for (TaskInstance p : problems) {
            prompts.add(PromptTokens.encode(tokenizer, p.text()));
        }
        List<int[]> outputs;
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(spec, nd, weights);
            outputs = new GreedyDecoder(policy, tokenizer.pad(), tokenizer.eos()).decode(prompts, maxNewTokens);
        }
        int correct = 0;
        int formed = 0;
        int consistent = 0;
        long tokens = 0;
        for (int i = 0; i < problems.size(); i++) {
            TaskInstance p = problems.get(i);
            String text = tokenizer.decode(outputs.get(i));
            tokens += outputs.get(i).length;
            Optional<String> answer = Answers.extract(text);
            if (answer.isPresent()) {
                formed++;
                if (tasks.resolve(p.task()).isCorrect(p, answer.get())) {
                    correct++;
                }
            }
            if (languageConsistent(p, text, outputs.get(i).length)) {
                consistent++;
            }
        }
        int n = problems.size();
        return new Result(n, (double) correct / n, (double) formed / n, (double) consistent / n, (double) tokens / n);
    }

    /** Every letter of the reasoning in the Latin script (the built-in prompts' script). */
    static boolean languageConsistent(TaskInstance p, String completion, int tokens) {
        RewardInput in = RewardInput.forProblem(p).completion(completion).completionTokens(tokens)
                .finishReason(FinishReason.UNKNOWN).build();
        return LANGUAGE.score(in) >= 1.0;
    }
}
