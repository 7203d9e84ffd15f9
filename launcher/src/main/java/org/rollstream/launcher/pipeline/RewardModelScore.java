package org.rollstream.launcher.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDManager;
import org.rollstream.launcher.rm.RewardModelBuild;
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
 * The reward model's mean score of a policy on prompts: greedy completions (DJL, as
 * {@link PolicyEvaluation} decodes), scored by the scorer's own rewards (ONNX Runtime) as the
 * alignment stage configures them, helpfulness + harmlessness per completion.
 */
final class RewardModelScore {

    /** @param meanScore mean helpfulness + harmlessness; @param accuracy share answered right by the task's verifier */
    record Result(double meanScore, double accuracy, List<String> completions) {
    }

    private RewardModelScore() {
    }

    static Result evaluate(Weights weights, ModelSpec spec, List<TaskInstance> problems, Path rewardModel, int maxNewTokens) {
        CharTokenizer tokenizer = CharTokenizer.builtin();
        List<int[]> prompts = new ArrayList<>();
        for (TaskInstance p : problems) {
            prompts.add(PromptTokens.encode(tokenizer, p.text()));
        }
        List<int[]> outputs;
        try (NDManager nd = NDManager.newBaseManager()) {
            outputs = new GreedyDecoder(new DjlPolicy(spec, nd, weights), tokenizer.pad(), tokenizer.eos()).decode(prompts, maxNewTokens);
        }
        String text = RewardModelBuild.modelRewards(rewardModel);
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
                right += Answers.extract(completion).map(a -> TaskRegistry.defaults().resolve(p.task()).isCorrect(p, a)).orElse(false) ? 1 : 0;
            }
        }
        return new Result(sum / problems.size(), right / (double) problems.size(), completions);
    }
}
