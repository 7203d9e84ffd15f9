package org.rollstream.reward;

import org.junit.jupiter.api.Test;
import org.rollstream.tasks.ArithmeticTask;
import org.rollstream.tasks.CountdownTask;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class AccuracyRewardTest {

    private final AccuracyReward accuracy = new AccuracyReward();

    private double score(String task, String answer, Map<String, String> fields, String completion) {
        return accuracy.score(RewardInput.builder().task(task).prompt("p").answer(answer).fields(fields).completion(completion).build());
    }

    @Test
    void arithmeticUsesNumericEquivalence() {
        var inst = ArithmeticTask.instance(ArithmeticTask.Op.ADD, 37, 48);
        RewardInput.Builder b = RewardInput.forProblem(inst);
        assertEquals(1.0, accuracy.score(b.completion("<think>7+8=15 3+4+1=8</think><answer>85</answer>").build()));
        assertEquals(1.0, accuracy.score(b.completion("<answer> 85.0 </answer>").build()));
        assertEquals(0.0, accuracy.score(b.completion("<answer>86</answer>").build()));
        assertEquals(0.0, accuracy.score(b.completion("<think>85</think>").build()), "no answer, no credit");
        assertEquals(0.0, accuracy.score(b.completion("<answer>85").build()), "unclosed answer");
        assertEquals(1.0, accuracy.score(b.completion("<answer>80</answer> wait <answer>85</answer>").build()), "the last answer counts");
    }

    @Test
    void userDataMatchesExactlyOrNumerically() {
        assertEquals(1.0, score("jsonl", "-3", Map.of(), "<answer>\u22123</answer>"));
        assertEquals(1.0, score("jsonl", "0.5", Map.of(), "<answer>1/2</answer>"));
        assertEquals(1.0, score("jsonl", "Paris", Map.of(), "<answer>Paris</answer>"));
        assertEquals(0.0, score("jsonl", "Paris", Map.of(), "<answer>paris</answer>"));
    }

    @Test
    void countdownChecksTheExpression() {
        Map<String, String> spec = Map.of("numbers", "3,4,6", "target", "8");
        assertEquals(1.0, score("countdown", "6/3*4", spec, "<think>x</think><answer>6/(3/4)</answer>"));
        assertEquals(0.0, score("countdown", "6/3*4", spec, "<answer>(6-4)*4</answer>"), "4 used twice");
        assertEquals(0.0, score("countdown", "6/3*4", spec, "<answer>8</answer>"), "the target alone is not a solution");
        var inst = new CountdownTask().sample(new java.util.Random(5));
        assertEquals(1.0, accuracy.score(RewardInput.forProblem(inst).completion("<answer>" + inst.answer() + "</answer>").build()));
    }

    @Test
    void brokenRecordsThrowInsteadOfScoringZero() {
        assertThrows(IllegalArgumentException.class, () -> score("algebra", "1", Map.of(), "<answer>1</answer>"));
        assertThrows(IllegalArgumentException.class, () -> score("countdown", "1+2", Map.of("numbers", "1,2"), "<answer>1+2</answer>"));
    }
}
