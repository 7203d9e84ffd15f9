package org.rollstream.reward.service;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.rollstream.reward.CompositeReward;
import org.rollstream.reward.FinishReason;
import org.rollstream.reward.GroupAdvantages;
import org.rollstream.reward.GroupScorer;
import org.rollstream.reward.GroupScorer.GroupScore;
import org.rollstream.reward.RewardException;
import org.rollstream.reward.RewardInput;
import org.rollstream.reward.RewardFunctions;
import org.rollstream.reward.RewardScore;
import org.rollstream.reward.topic.ComponentJoin;
import org.rollstream.reward.ScorerInfo;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.ScorerIdentity;
import org.rollstream.tasks.TaskRegistry;

/** Record-level scoring: checks a {@link SampledGroup}, scores it with {@link GroupScorer}, builds the {@link ScoredGroup}. */
final class SampledGroupScorer {
    private final GroupScorer scorer;
    private final TaskRegistry tasks;
    private final ScorerConfig config;
    private final ScorerIdentity identity;

    private final CompositeReward reward; // external rewards: held to be closed

    SampledGroupScorer(ScorerConfig config, TaskRegistry tasks) {
        this(config, tasks, null);
    }

    /** @param join where topic-protocol components arrive; null when no reward is of type topic */
    SampledGroupScorer(ScorerConfig config, TaskRegistry tasks, ComponentJoin join) {
        this.config = config;
        this.tasks = tasks;
        this.reward = new CompositeReward(config.rewards(), RewardFunctions.discover().values(), join);
        this.scorer = new GroupScorer(reward, new GroupAdvantages(config.advantageMode(), GroupAdvantages.DEFAULT_EPS));
        ScorerInfo info = scorer.info();
        // the budget and language change what the rewards return, so they belong to the stamp too
        String stamp = info.config() + ";maxNewTokens=" + config.maxNewTokens()
                + (config.targetLanguage().isEmpty() ? "" : ";language=" + config.targetLanguage());
        this.identity = ScorerIdentity.newBuilder().setName(info.name()).setVersion(info.version()).setConfig(stamp).build();
    }

    /** True when a reward component comes over the topic protocol. */
    boolean awaitsTopic() {
        return reward.awaitsTopic();
    }

    /** Releases external rewards' clients and sessions. */
    void close() {
        reward.close();
    }

    ScorerIdentity identity() {
        return identity;
    }

    /**
     * @throws MalformedGroupException when the group cannot be scored as it is
     * @throws RewardException         when a reward function fails on a completion
     */
    ScoredGroup score(SampledGroup group) {
        check(group);
        Prompt p = group.getPrompt();
        RewardInput.Builder problem = RewardInput.builder()
                .task(p.getTask().toString()).prompt(p.getText().toString()).answer(p.getAnswer().toString())
                .fields(strings(p.getFields())).maxNewTokens(config.maxNewTokens()).targetLanguage(config.targetLanguage())
                .groupId(group.getGroupId().toString());
        int index = 0; // metadata: what external scorers may want beyond the text
        List<RewardInput> inputs = new ArrayList<>(group.getCompletions().size());
        for (Completion c : group.getCompletions()) {
            inputs.add(problem.metadata(ExternalMetadata.of(group, index++)).completion(c.getText().toString()).completionTokens(c.getTokenIds().size())
                    .finishReason(FinishReason.parse(c.getFinishReason() == null ? null : c.getFinishReason().name()))
                    .build());
        }
        GroupScore result = scorer.score(inputs);
        double[] advantages = result.advantages();
        List<CompletionScore> scores = new ArrayList<>(advantages.length);
        for (int i = 0; i < advantages.length; i++) {
            RewardScore s = result.scores().get(i);
            scores.add(CompletionScore.newBuilder().setComponents(new LinkedHashMap<>(s.components()))
                    .setTotal(s.total()).setAdvantage(advantages[i]).build());
        }
        return ScoredGroup.newBuilder().setGroup(group).setScores(scores).setScorer(identity)
                .setScoredAtMs(System.currentTimeMillis()).build();
    }

    private void check(SampledGroup g) {
        String id = g.getGroupId() == null ? "?" : g.getGroupId().toString();
        if (g.getPrompt() == null) {
            throw new MalformedGroupException("group " + id + " has no prompt");
        }
        String task = g.getPrompt().getTask() == null ? "" : g.getPrompt().getTask().toString();
        if (tasks.find(task).isEmpty()) {
            throw new MalformedGroupException("group " + id + ": unknown task '" + task + "' (known: "
                    + String.join(", ", tasks.names()) + ")");
        }
        List<Completion> cs = g.getCompletions();
        if (cs == null || cs.isEmpty()) {
            throw new MalformedGroupException("group " + id + " has no completions");
        }
        for (int i = 0; i < cs.size(); i++) {
            Completion c = cs.get(i);
            int tokens = c.getTokenIds() == null ? 0 : c.getTokenIds().size();
            int logProbs = c.getLogProbs() == null ? 0 : c.getLogProbs().size();
            if (tokens != logProbs) {
                throw new MalformedGroupException("group " + id + " completion " + i + " has " + tokens
                        + " token ids but " + logProbs + " log-probs");
            }
            if (c.getText() == null) {
                throw new MalformedGroupException("group " + id + " completion " + i + " has no text");
            }
        }
    }

    /** Avro hands out Utf8 keys and values; rewards want plain strings. */
    private static Map<String, String> strings(Map<? extends CharSequence, ? extends CharSequence> m) {
        Map<String, String> out = new LinkedHashMap<>();
        if (m != null) {
            m.forEach((k, v) -> out.put(k.toString(), v == null ? "" : v.toString()));
        }
        return out;
    }
}
