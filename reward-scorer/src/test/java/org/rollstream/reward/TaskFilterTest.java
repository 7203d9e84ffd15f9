package org.rollstream.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.rollstream.tasks.GeneralTask;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;

class TaskFilterTest {

    private static RewardInput input(TaskInstance problem, String completion) {
        return RewardInput.forProblem(problem).completion(completion).completionTokens(10).maxNewTokens(48).build();
    }

    @Test
    void aRewardLimitedToTasksScoresOnlyThoseAndLeavesOthersOut() {
        TaskInstance general = GeneralTask.instance("copy", "lamp");
        TaskInstance arithmetic = TaskRegistry.defaults().resolve("arithmetic").sample(new java.util.Random(1));
        String right = "<think>x</think><answer>" + arithmetic.answer() + "</answer>";
        try (CompositeReward r = new CompositeReward(RewardConfig.parse("accuracy=1.0,accuracy.tasks=!general,format=0.5,length=2.0,length.tasks=general|logic"))) {
            RewardScore a = r.score(input(arithmetic, right));
            assertEquals(1.5, a.total(), 1e-9);
            assertTrue(a.components().containsKey("accuracy"));
            assertFalse(a.components().containsKey("length"), a.components().toString());

            RewardScore g = r.score(input(general, "<think></think><answer>lamp</answer>"));
            assertFalse(g.components().containsKey("accuracy"), "a right general answer earns no accuracy term: " + g.components());
            assertTrue(g.components().containsKey("length"));
            assertEquals(0.5 + 2.0 * g.components().get("length"), g.total(), 1e-9);

            // a mixed list (as rescoring may pass) is routed row by row
            List<RewardScore> both = r.scoreGroup(List.of(input(general, "<think></think><answer>lamp</answer>"), input(arithmetic, right)));
            assertFalse(both.get(0).components().containsKey("accuracy"));
            assertEquals(1.0, both.get(1).components().get("accuracy"));
        }
    }

    @Test
    void anEmptyTaskListIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CompositeReward(RewardConfig.parse("accuracy=1.0,accuracy.tasks=!")));
        assertTrue(e.getMessage().contains("names no task"), e.getMessage());
    }
}
