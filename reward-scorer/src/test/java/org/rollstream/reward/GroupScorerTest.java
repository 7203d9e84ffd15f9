package org.rollstream.reward;

import org.junit.jupiter.api.Test;
import org.rollstream.tasks.ArithmeticTask;
import org.rollstream.tasks.CountdownTask;
import org.rollstream.tasks.Task;
import org.rollstream.tasks.TaskInstance;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class GroupScorerTest {

    @Test
    void tracesOfTheTasksAreWellFormedAndPerfectOnesAreRight() {
        AccuracyReward accuracy = new AccuracyReward();
        FormatReward format = new FormatReward();
        Random rnd = new Random(17);
        for (Task task : List.of(new ArithmeticTask(), new CountdownTask())) {
            for (int i = 0; i < 500; i++) {
                TaskInstance inst = task.sample(rnd);
                RewardInput good = RewardInput.forProblem(inst).completion(task.trace(inst, true, rnd)).build();
                RewardInput bad = RewardInput.forProblem(inst).completion(task.trace(inst, false, rnd)).build();
                assertEquals(1.0, format.score(good), good.completion());
                assertEquals(1.0, format.score(bad), bad.completion());
                assertEquals(1.0, accuracy.score(good), good.completion());
                assertEquals(0.0, accuracy.score(bad), bad.completion());
            }
        }
    }

    @Test
    void scoresAGroupAndStampsHowItWasScored() {
        GroupScorer scorer = new GroupScorer(new CompositeReward(RewardConfig.parse("accuracy=1.0,format=0.2")), GroupAdvantages.drGrpo());
        TaskInstance inst = ArithmeticTask.instance(ArithmeticTask.Op.ADD, 37, 48);
        List<RewardInput> group = List.of(
                RewardInput.forProblem(inst).completion("<think>7+8=15 3+4+1=8</think><answer>85</answer>").build(), // 1.2
                RewardInput.forProblem(inst).completion("<think>7+8=15 3+4+1=9</think><answer>95</answer>").build(), // 0.2
                RewardInput.forProblem(inst).completion("85").build(),                                              // 0.0
                RewardInput.forProblem(inst).completion("<answer>85</answer>").build());                            // 1.0
        GroupScorer.GroupScore s = scorer.score(group);
        assertArrayEquals(new double[]{1.2, 0.2, 0.0, 1.0}, s.totals(), 1e-12);
        // mean 0.6
        assertArrayEquals(new double[]{0.6, -0.4, -0.6, 0.4}, s.advantages(), 1e-12);
        assertFalse(s.allEqual());
        assertEquals(new ScorerInfo("rollstream-rules", "1", "accuracy=1.0,format=0.2;advantage=dr-grpo,eps=1.0E-6"), scorer.info());

        GroupScorer.GroupScore same = scorer.score(List.of(group.get(2), group.get(2)));
        assertTrue(same.allEqual());
        assertArrayEquals(new double[]{0, 0}, same.advantages());
    }
}
