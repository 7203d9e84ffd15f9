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
import org.rollstream.transport.errors.BadRecordException;

/** Record-level scoring: checks a {@link SampledGroup} ({@link GroupCheck}), scores it with {@link GroupScorer}, builds the {@link ScoredGroup}. */
final class SampledGroupScorer {
    private final GroupScorer scorer;
    private final GroupCheck check;
    private final ScorerConfig config;
    private final ScorerIdentity identity;

    private final CompositeReward reward; // external rewards: held to be closed

    SampledGroupScorer(ScorerConfig config, TaskRegistry tasks) {
        this(config, tasks, null);
    }

    /** @param join where topic-protocol components arrive; null when no reward is of type topic */
    SampledGroupScorer(ScorerConfig config, TaskRegistry tasks, ComponentJoin join) {
        this.config = config;
        this.check = new GroupCheck(tasks, config.groupSize());
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
     * @throws BadRecordException when the group is invalid ({@link GroupCheck}) or its rewards cannot
     *                            become advantages (a non-finite reward)
     * @throws RewardException    when a reward function fails on a completion
     */
    ScoredGroup score(SampledGroup group) {
        check.check(group);
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
        GroupScore result;
        try {
            result = scorer.score(inputs);
        } catch (IllegalArgumentException e) { // GroupAdvantages refuses a non-finite reward: the group's, not ours
            throw new BadRecordException("group " + group.getGroupId() + ": " + e.getMessage(), e);
        }
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

    /** Avro hands out Utf8 keys and values; rewards want plain strings. */
    private static Map<String, String> strings(Map<? extends CharSequence, ? extends CharSequence> m) {
        Map<String, String> out = new LinkedHashMap<>();
        if (m != null) {
            m.forEach((k, v) -> out.put(k.toString(), v == null ? "" : v.toString()));
        }
        return out;
    }
}
