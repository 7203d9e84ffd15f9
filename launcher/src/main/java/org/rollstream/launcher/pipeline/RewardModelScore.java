package org.rollstream.launcher.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import ai.djl.ndarray.NDManager;
import org.rollstream.launcher.rm.RewardModelBuild;
import org.rollstream.learner.distill.PolicySampler;
import org.rollstream.learner.eval.GreedyDecoder;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.reward.CompositeReward;
import org.rollstream.reward.RewardConfig;
import org.rollstream.reward.RewardInput;
import org.rollstream.reward.RewardScore;
import org.rollstream.tasks.Answers;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;

/**
 * The reward model's mean score of a policy on prompts, scored by the scorer's own rewards (ONNX
 * Runtime) as the alignment stage configures them, helpfulness + harmlessness per completion: of
 * greedy completions (DJL, as {@link PolicyEvaluation} decodes), or of several sampled completions
 * per prompt at temperature 1, which estimates the policy's expected score, the quantity GRPO raises.
 */
final class RewardModelScore {

    /** @param meanScore mean helpfulness + harmlessness; @param accuracy share answered right by the task's verifier */
    record Result(double meanScore, double accuracy, List<String> completions) {
    }

    private RewardModelScore() {
    }

    /** Greedy completions of {@code problems}, scored. */
    static Result evaluate(Weights weights, ModelSpec spec, List<TaskInstance> problems, Path rewardModel, int maxNewTokens) {
        CharTokenizer tokenizer = CharTokenizer.builtin();
        List<int[]> outputs;
        try (NDManager nd = NDManager.newBaseManager()) {
            outputs = new GreedyDecoder(new DjlPolicy(spec, nd, weights), tokenizer.pad(), tokenizer.eos())
                    .decode(prompts(tokenizer, problems), maxNewTokens);
        }
        return score(tokenizer, problems, outputs, rewardModel);
    }

    /**
     * {@code perPrompt} completions of each problem sampled at temperature 1 (seeded), scored: a finer
     * estimate than the greedy score, which moves only when a greedy answer flips.
     */
    static Result evaluateSampled(Weights weights, ModelSpec spec, List<TaskInstance> problems, Path rewardModel,
                                  int maxNewTokens, int perPrompt, long seed) {
        CharTokenizer tokenizer = CharTokenizer.builtin();
        List<TaskInstance> repeated = new ArrayList<>(problems.size() * perPrompt);
        for (TaskInstance p : problems) {
            for (int k = 0; k < perPrompt; k++) {
                repeated.add(p);
            }
        }
        List<int[]> outputs = new ArrayList<>();
        try (NDManager nd = NDManager.newBaseManager()) {
            PolicySampler sampler = new PolicySampler(new DjlPolicy(spec, nd, weights), tokenizer.pad(), tokenizer.eos());
            for (int[] completion : sampler.sample(prompts(tokenizer, repeated), maxNewTokens, 1.0, new Random(seed))) {
                int n = completion.length;
                // the sampler keeps a sampled <eos>; a greedy completion has none
                outputs.add(n > 0 && completion[n - 1] == tokenizer.eos() ? Arrays.copyOf(completion, n - 1) : completion);
            }
        }
        return score(tokenizer, repeated, outputs, rewardModel);
    }

    private static List<int[]> prompts(CharTokenizer tokenizer, List<TaskInstance> problems) {
        List<int[]> prompts = new ArrayList<>(problems.size());
        for (TaskInstance p : problems) {
            prompts.add(PromptTokens.encode(tokenizer, p.text()));
        }
        return prompts;
    }

    private static Result score(CharTokenizer tokenizer, List<TaskInstance> problems, List<int[]> outputs, Path rewardModel) {
        String text = RewardModelBuild.modelRewards(rewardModel);
        TaskRegistry tasks = TaskRegistry.defaults();
        double sum = 0;
        int right = 0;
        List<String> completions = new ArrayList<>();
        try (CompositeReward rewards = new CompositeReward(RewardConfig.parse(text))) {
            for (int i = 0; i < problems.size(); i++) {
                TaskInstance p = problems.get(i);
                String completion = tokenizer.decode(outputs.get(i));
                completions.add(completion);
                RewardScore s = rewards.score(RewardInput.forProblem(p).completion(completion).completionTokens(outputs.get(i).length).build());
                sum += s.total();
                right += Answers.extract(completion).map(a -> tasks.resolve(p.task()).isCorrect(p, a)).orElse(false) ? 1 : 0;
            }
        }
        return new Result(sum / problems.size(), right / (double) problems.size(), completions);
    }
}
