package org.rollstream.reward.rejection;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.rollstream.reward.AccuracyReward;
import org.rollstream.reward.FinishReason;
import org.rollstream.reward.FormatReward;
import org.rollstream.reward.LanguageReward;
import org.rollstream.reward.RewardInput;
import org.rollstream.reward.rejection.FilterFunnel.Filter;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.errors.BadRecordException;

/**
 * Rejection sampling's judge: decides for every completion of a scored group whether it becomes an
 * SFT sample, by the rules of {@link RejectionSettings}, applied in {@link Filter} order, and counts
 * the outcome in a {@link FilterFunnel}. It re-checks everything itself (the task's verifier, the
 * format, the script, the finish reason and token count carried by the completion) rather than
 * trusting the scorer's weights; the scorer's total is only copied into the sample.
 *
 * <p>Stateful across groups: duplicates and the per-prompt cap count what was kept for a prompt in
 * any group, and a group id seen before (a redelivery) is not judged again. Not thread-safe: one
 * filter per consumer, fed in order.
 */
public final class RejectionFilter {
    /** The {@code source} of the samples this filter emits. */
    public static final String SOURCE = "rejection-sampling";

    private final RejectionSettings settings;
    private final TaskRegistry tasks;
    private final FilterFunnel funnel;
    private final AccuracyReward accuracy;
    private final FormatReward format = new FormatReward();
    private final LanguageReward language;
    private final Map<String, PromptState> prompts = new HashMap<>();
    private final Set<String> groups = new HashSet<>();

    private static final class PromptState {
        final Set<String> texts = new HashSet<>();
        int kept;
    }

    /**
     * One group's outcome.
     *
     * @param removedBy   per completion (in the group's order) the filter that removed it, or null when kept
     * @param kept        the samples kept, in completion order
     * @param redelivered true when the group id was judged before: nothing was counted or kept again
     */
    public record Outcome(List<Filter> removedBy, List<SftSample> kept, boolean redelivered) {
    }

    public RejectionFilter(RejectionSettings settings, TaskRegistry tasks, FilterFunnel funnel) {
        this.settings = settings;
        this.tasks = tasks;
        this.funnel = funnel;
        this.accuracy = new AccuracyReward(tasks);
        this.language = new LanguageReward(settings.language());
    }

    public FilterFunnel funnel() {
        return funnel;
    }

    /**
     * Judges one group.
     *
     * @throws BadRecordException when the group cannot be judged (no completions, scores that do not
     *                            match them, an unknown task or a prompt lacking its verification
     *                            fields); nothing is counted then
     */
    public Outcome judge(ScoredGroup scored, long nowMs) {
        SampledGroup g = scored.getGroup();
        Prompt p = g.getPrompt();
        String promptId = text(p.getId());
        String groupId = text(g.getGroupId());
        List<Completion> completions = g.getCompletions();
        if (promptId.isBlank()) {
            throw new BadRecordException("scored group " + groupId + " has a prompt without an id");
        }
        if (completions.isEmpty()) {
            throw new BadRecordException("scored group " + groupId + " has no completions");
        }
        if (scored.getScores().size() != completions.size()) {
            throw new BadRecordException("scored group " + groupId + " has " + scored.getScores().size() + " scores for "
                    + completions.size() + " completions");
        }
        if (tasks.find(text(p.getTask())).isEmpty()) {
            throw new BadRecordException("scored group " + groupId + ": unknown task '" + p.getTask() + "' (known: "
                    + String.join(", ", tasks.names()) + ")");
        }
        if (groups.contains(groupId)) {
            return new Outcome(Collections.nCopies(completions.size(), null), List.of(), true);
        }
        List<RewardInput> inputs = new ArrayList<>(completions.size());
        boolean[] correct = new boolean[completions.size()];
        int passed = 0;
        for (int i = 0; i < completions.size(); i++) {
            Completion c = completions.get(i);
            RewardInput in = RewardInput.builder().task(text(p.getTask())).prompt(text(p.getText()))
                    .answer(text(p.getAnswer())).fields(strings(p.getFields())).completion(text(c.getText()))
                    .completionTokens(c.getTokenIds().size()).finishReason(FinishReason.parse(String.valueOf(c.getFinishReason())))
                    .targetLanguage(settings.language()).groupId(groupId).build();
            inputs.add(in);
            try {
                correct[i] = accuracy.score(in) == 1.0;
            } catch (IllegalArgumentException e) {
                throw new BadRecordException("scored group " + groupId + " cannot be verified: " + e.getMessage(), e);
            }
            passed += correct[i] ? 1 : 0;
        }
        groups.add(groupId);
        funnel.in(completions.size());
        double passRate = (double) passed / completions.size();
        boolean inBand = !settings.hasPassBand() || (passRate >= settings.passLow() && passRate <= settings.passHigh());
        PromptState state = prompts.computeIfAbsent(promptId, k -> new PromptState());
        List<Filter> removedBy = new ArrayList<>(completions.size());
        List<SftSample> kept = new ArrayList<>();
        for (int i = 0; i < completions.size(); i++) {
            Completion c = completions.get(i);
            RewardInput in = inputs.get(i);
            Filter f = !inBand ? Filter.PASS_BAND
                    : c.getFinishReason() != org.rollstream.schemas.records.FinishReason.STOP ? Filter.TRUNCATED
                    : format.score(in) < 1.0 ? Filter.FORMAT
                    : !correct[i] ? Filter.INCORRECT
                    : language.score(in) < settings.minLanguage() ? Filter.LANGUAGE
                    : in.completionTokens() < settings.minTokens() || in.completionTokens() > settings.maxTokens() ? Filter.LENGTH
                    : state.texts.contains(in.completion()) ? Filter.DUPLICATE
                    : state.kept >= settings.maxPerPrompt() ? Filter.PER_PROMPT_CAP
                    : null;
            removedBy.add(f);
            if (f != null) {
                funnel.removedBy(f);
                continue;
            }
            state.texts.add(in.completion());
            kept.add(SftSample.newBuilder().setId(promptId + "#" + state.kept).setPromptId(promptId)
                    .setTask(in.task()).setPrompt(in.prompt()).setCompletion(in.completion())
                    .setSource(SOURCE).setPolicyVersion(c.getPolicyVersion() != 0 ? c.getPolicyVersion() : g.getPolicyVersion())
                    .setCreatedAtMs(nowMs).setTokens(in.completionTokens()).setReward(scored.getScores().get(i).getTotal())
                    .setRunId(text(p.getRunId())).build());
            state.kept++;
            funnel.kept();
        }
        return new Outcome(removedBy, kept, false);
    }

    private static String text(CharSequence s) {
        return s == null ? "" : s.toString();
    }

    private static Map<String, String> strings(Map<? extends CharSequence, ? extends CharSequence> m) {
        Map<String, String> out = new HashMap<>();
        if (m != null) {
            m.forEach((k, v) -> out.put(k.toString(), v == null ? "" : v.toString()));
        }
        return out;
    }
}
