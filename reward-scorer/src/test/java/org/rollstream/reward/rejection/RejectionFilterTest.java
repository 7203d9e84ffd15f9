package org.rollstream.reward.rejection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rollstream.reward.rejection.FilterFunnel.Filter;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.FinishReason;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.ScorerIdentity;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.tasks.ArithmeticTask;
import org.rollstream.tasks.GeneralTask;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.errors.BadRecordException;

class RejectionFilterTest {
    static final TaskInstance P = ArithmeticTask.instance(ArithmeticTask.Op.ADD, 37, 48); // 85
    static final String GOOD = "<think>7+8=15 3+4+1=8</think><answer>85</answer>";

    @Test
    void eachFilterRemovesWhatItShouldAndTheFunnelAddsUp() {
        FilterFunnel funnel = new FilterFunnel();
        RejectionFilter filter = new RejectionFilter(RejectionSettings.defaults().withLength(1, 50), TaskRegistry.defaults(), funnel);
        ScoredGroup g = group("job/1", "job/1@a#1", List.of(
                c(GOOD, FinishReason.STOP),                                                   // kept
                c(GOOD, FinishReason.LENGTH),                                                 // truncated
                c("85", FinishReason.STOP),                                                   // format
                c("<think>7+8=15</think><answer>86</answer>", FinishReason.STOP),             // incorrect
                c("<think>семь плюс восемь</think><answer>85</answer>", FinishReason.STOP),   // language
                c("<think>7+8=15 3+4+1=8 7+8=15 3+4+1=8</think><answer>85</answer>", FinishReason.STOP), // length (> 50)
                c(GOOD, FinishReason.STOP),                                                   // duplicate
                c("<think>37+48=85</think><answer>85</answer>", FinishReason.STOP),           // kept (2nd)
                c("<think>48+37=85</think><answer>85</answer>", FinishReason.STOP)));         // per-prompt cap (m = 2)
        RejectionFilter.Outcome out = filter.judge(g, 1234L);

        assertEquals(Arrays.asList(null, Filter.TRUNCATED, Filter.FORMAT, Filter.INCORRECT, Filter.LANGUAGE, Filter.LENGTH,
                Filter.DUPLICATE, null, Filter.PER_PROMPT_CAP), out.removedBy());
        assertEquals(9, funnel.input());
        assertEquals(2, funnel.keptCount());
        for (Filter f : List.of(Filter.TRUNCATED, Filter.FORMAT, Filter.INCORRECT, Filter.LANGUAGE, Filter.LENGTH,
                Filter.DUPLICATE, Filter.PER_PROMPT_CAP)) {
            assertEquals(1, funnel.removed(f), f.key());
        }
        assertEquals(0, funnel.removed(Filter.PASS_BAND));
        assertAddsUp(funnel);

        List<SftSample> kept = out.kept();
        assertEquals(List.of(GOOD, "<think>37+48=85</think><answer>85</answer>"), kept.stream().map(SftSample::getCompletion).toList());
        SftSample first = kept.get(0);
        assertEquals("job/1#0", first.getId());
        assertEquals("job/1#1", kept.get(1).getId());
        assertEquals("job/1", first.getPromptId());
        assertEquals(P.text(), first.getPrompt());
        assertEquals("arithmetic", first.getTask());
        assertEquals(GOOD.length(), first.getTokens());
        assertEquals(1.0, first.getReward()); // the scorer's total for completion 0
        assertEquals("job", first.getRunId());
        assertEquals(5, first.getPolicyVersion());
        assertEquals(RejectionFilter.SOURCE, first.getSource());
        assertEquals(1234L, first.getCreatedAtMs());
    }

    @Test
    void duplicatesAndTheCapHoldAcrossGroupsOfOnePromptAndRedeliveriesCountOnce() {
        FilterFunnel funnel = new FilterFunnel();
        RejectionFilter filter = new RejectionFilter(RejectionSettings.defaults().withMaxPerPrompt(2).withLength(1, 60), TaskRegistry.defaults(), funnel);
        ScoredGroup first = group("job/1", "g1", List.of(c(GOOD, FinishReason.STOP)));
        assertEquals(1, filter.judge(first, 0).kept().size());
        // the same prompt sampled again: the identical text is a duplicate, a new one fills the cap, the next is over it
        ScoredGroup second = group("job/1", "g2", List.of(c(GOOD, FinishReason.STOP),
                c("<think>37+48=85</think><answer>85</answer>", FinishReason.STOP),
                c("<think>48+37=85</think><answer>85</answer>", FinishReason.STOP)));
        assertEquals(Arrays.asList(Filter.DUPLICATE, null, Filter.PER_PROMPT_CAP), filter.judge(second, 0).removedBy());
        // another prompt has its own budget and its own texts
        assertEquals(1, filter.judge(group("job/2", "g3", List.of(c(GOOD, FinishReason.STOP))), 0).kept().size());

        long input = funnel.input();
        RejectionFilter.Outcome again = filter.judge(second, 0);
        assertTrue(again.redelivered());
        assertTrue(again.kept().isEmpty());
        assertEquals(input, funnel.input());
        assertEquals(3, funnel.keptCount());
        assertAddsUp(funnel);
    }

    @Test
    void thePassBandDropsPromptsThatAreTooEasyOrTooHard() {
        FilterFunnel funnel = new FilterFunnel();
        RejectionFilter filter = new RejectionFilter(RejectionSettings.defaults().withPassBand(0.25, 0.75).withMaxPerPrompt(8).withLength(1, 60),
                TaskRegistry.defaults(), funnel);
        String wrong = "<think>7+8=15</think><answer>86</answer>";
        String right2 = "<think>37+48=85</think><answer>85</answer>";
        ScoredGroup easy = group("job/easy", "ge", List.of(c(GOOD, FinishReason.STOP), c(right2, FinishReason.STOP)));
        ScoredGroup hard = group("job/hard", "gh", List.of(c(wrong, FinishReason.STOP), c("85", FinishReason.STOP)));
        ScoredGroup mid = group("job/mid", "gm", List.of(c(GOOD, FinishReason.STOP), c(wrong, FinishReason.STOP)));
        assertEquals(List.of(Filter.PASS_BAND, Filter.PASS_BAND), filter.judge(easy, 0).removedBy());
        assertEquals(List.of(Filter.PASS_BAND, Filter.PASS_BAND), filter.judge(hard, 0).removedBy());
        RejectionFilter.Outcome m = filter.judge(mid, 0);
        assertNull(m.removedBy().get(0));
        assertEquals(Filter.INCORRECT, m.removedBy().get(1));
        assertEquals(4, funnel.removed(Filter.PASS_BAND));
        assertAddsUp(funnel);

        // without a band the same easy group is kept
        RejectionFilter open = new RejectionFilter(RejectionSettings.defaults().withLength(1, 60), TaskRegistry.defaults(), new FilterFunnel());
        assertEquals(2, open.judge(easy, 0).kept().size());
    }

    @Test
    void groupsThatCannotBeJudgedAreRefusedWithAReasonAndNotCounted() {
        FilterFunnel funnel = new FilterFunnel();
        RejectionFilter filter = new RejectionFilter(RejectionSettings.defaults(), TaskRegistry.defaults(), funnel);
        ScoredGroup mismatch = group("job/1", "g1", List.of(c(GOOD, FinishReason.STOP)));
        mismatch.setScores(new ArrayList<>());
        BadRecordException e = assertThrows(BadRecordException.class, () -> filter.judge(mismatch, 0));
        assertTrue(e.getMessage().contains("0 scores for 1 completions"), e.getMessage());

        ScoredGroup unknown = group("job/2", "g2", List.of(c(GOOD, FinishReason.STOP)));
        unknown.getGroup().getPrompt().setTask("poetry");
        e = assertThrows(BadRecordException.class, () -> filter.judge(unknown, 0));
        assertTrue(e.getMessage().contains("unknown task 'poetry'"), e.getMessage());

        ScoredGroup empty = group("job/3", "g3", List.of());
        e = assertThrows(BadRecordException.class, () -> filter.judge(empty, 0));
        assertTrue(e.getMessage().contains("no completions"), e.getMessage());

        // a general prompt is verified from its fields (op, word): without them it cannot be
        ScoredGroup noFields = group("job/4", "g4", GeneralTask.instance("copy", "lamp"),
                List.of(c("<think></think><answer>lamp</answer>", FinishReason.STOP)));
        noFields.getGroup().getPrompt().setFields(new HashMap<>());
        e = assertThrows(BadRecordException.class, () -> filter.judge(noFields, 0));
        assertTrue(e.getMessage().contains("cannot be verified"), e.getMessage());
        assertEquals(0, funnel.input());
        assertEquals(0, funnel.keptCount());
    }

    @Test
    void badSettingsAreRefusedWithTheirName() {
        assertThrows(IllegalArgumentException.class, () -> RejectionSettings.defaults().withMaxPerPrompt(0));
        assertThrows(IllegalArgumentException.class, () -> RejectionSettings.defaults().withLength(10, 5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RejectionSettings.defaults().withPassBand(0.8, 0.2));
        assertTrue(e.getMessage().contains("pass-rate band"), e.getMessage());
        assertFalse(RejectionSettings.defaults().hasPassBand());
    }

    static void assertAddsUp(FilterFunnel funnel) {
        long removed = 0;
        for (Filter f : Filter.values()) {
            removed += funnel.removed(f);
        }
        assertEquals(funnel.input(), removed + funnel.keptCount(), funnel.toJson());
        assertEquals((double) funnel.input(), funnel.metrics().get("funnel.input"));
    }

    static Completion c(String text, FinishReason reason) {
        List<Integer> ids = new ArrayList<>();
        List<Float> lp = new ArrayList<>();
        for (int i = 0; i < text.length(); i++) {
            ids.add(10 + i % 50);
            lp.add(-1f);
        }
        return Completion.newBuilder().setTokenIds(ids).setText(text).setLogProbs(lp).setFinishReason(reason)
                .setPolicyVersion(5).build();
    }

    /** A scored group of {@link #P} under {@code promptId} (run id = the part before '/'); completion totals = correctness. */
    static ScoredGroup group(String promptId, String groupId, List<Completion> completions) {
        return group(promptId, groupId, P, completions);
    }

    static ScoredGroup group(String promptId, String groupId, TaskInstance problem, List<Completion> completions) {
        Prompt prompt = Prompt.newBuilder().setId(promptId).setTask(problem.task()).setText(problem.text())
                .setAnswer(problem.answer()).setFields(new HashMap<>(problem.fields()))
                .setRunId(promptId.substring(0, promptId.indexOf('/'))).setPolicy("rejection-sft").build();
        SampledGroup sg = SampledGroup.newBuilder().setGroupId(groupId).setPrompt(prompt).setPromptTokenIds(List.of(1, 2, 3))
                .setPolicyVersion(5).setActorId("test").setCompletions(new ArrayList<>(completions)).build();
        List<CompletionScore> scores = new ArrayList<>();
        for (Completion c : completions) {
            double total = c.getText().contains("<answer>" + problem.answer() + "</answer>") ? 1.0 : 0.0;
            scores.add(CompletionScore.newBuilder().setComponents(new HashMap<>()).setTotal(total).setAdvantage(0).build());
        }
        return ScoredGroup.newBuilder().setGroup(sg).setScores(scores)
                .setScorer(ScorerIdentity.newBuilder().setName("test").setVersion("0").build()).build();
    }
}
