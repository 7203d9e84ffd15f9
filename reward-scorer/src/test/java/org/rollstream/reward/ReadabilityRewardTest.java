package org.rollstream.reward;

import org.junit.jupiter.api.Test;
import org.rollstream.tasks.Reflection;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ReadabilityRewardTest {

    private final RewardFunction r = new ReadabilityReward();

    private double score(String completion) {
        return r.score(RewardInput.builder().task("arithmetic").completion(completion).build());
    }

    @Test
    void cleanStepwiseReasoningScoresOne() {
        assertEquals(1.0, score("<think>7+8=15 3+4+1=8</think><answer>85</answer>"));
        assertEquals(1.0, score("<think>7+8=15 3+4+1=9 check: 37+48=95 no 7+8=15 3+4+1=8 85</think><answer>85</answer>"));
        assertEquals(1.0, score("<think></think><answer>85</answer>"), "no reasoning is not unreadable");
        assertEquals(1.0, score("<think>1000000+1=1000001</think><answer>1000001</answer>"), "six zeros are a number, not garbage");
    }

    @Test
    void brokenStructureScoresZero() {
        assertEquals(0.0, score("7+8=15 3+4+1=8 <answer>85</answer>"));
        assertEquals(0.0, score("<think>7+8=15 3+4+1=8</think>"));
        assertEquals(0.0, score("<answer>85</answer><think>7+8=15</think>"));
    }

    @Test
    void garbageRunsAndNonPrintingCharactersScoreZero() {
        assertEquals(0.0, score("<think>7+8=15 ))))))))))) 3+4+1=8</think><answer>85</answer>"));
        assertEquals(0.0, score("<think>7+8=15\u0007 3+4+1=8</think><answer>85</answer>"));
        assertEquals(0.0, score("<think>7+8=15 \uFFFD 3+4+1=8</think><answer>85</answer>"));
        assertEquals(0.0, score("<think>7+8=15 <unk> 3+4+1=8</think><answer>85</answer>"));
        assertEquals(0.0, score("<think>7+8=15</think><answer>8\u200B5</answer>"), "zero-width space in the answer");
        assertEquals(1.0, r.withOptions(Map.of("run", "12")).score(RewardInput.builder()
                .completion("<think>7+8=15 ))))))))))) 3+4+1=8</think><answer>85</answer>").build()));
    }

    @Test
    void unseparatedBlobsLoseTheStepsShare() {
        double s = score("<think>7+8=15 7+8=153+4+1=87+8=153+4+1=8</think><answer>85</answer>");
        assertEquals(0.5, s, 1e-12);
    }

    @Test
    void repetitionIsBounded() {
        String loop = "<think>" + "7+8=15 ".repeat(40) + "</think><answer>85</answer>";
        assertEquals(0.0, score(loop), 0.05);
        String some = "<think>a b c d e f g a b c h i j</think><answer>85</answer>"; // 1 of 11 trigrams repeated
        assertEquals(1.0, score(some));
        String half = "<think>a b c a b c a b c x y z</think><answer>85</answer>"; // 4 of 10 trigrams repeated
        double h = score(half);
        assertTrue(h > 0.2 && h < 0.9, "half-repeated reasoning: " + h);
        assertEquals(1 - (0.4 - 0.25) / 0.75, h, 1e-12);
    }

    @Test
    void generatedTracesAreReadable() {
        TaskRegistry reg = TaskRegistry.defaults();
        Random rnd = new Random(8);
        for (String name : new String[] {"arithmetic", "countdown", "logic"}) {
            var task = reg.resolve(name);
            for (int i = 0; i < 200; i++) {
                TaskInstance p = task.sample(rnd);
                for (String c : new String[] {task.trace(p, true, rnd), Reflection.trace(task, p, rnd)}) {
                    assertEquals(1.0, r.score(RewardInput.forProblem(p).completion(c).build()), c);
                }
            }
        }
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> r.withOptions(Map.of("colour", "1")));
        assertThrows(IllegalArgumentException.class, () -> r.withOptions(Map.of("run", "x")));
        assertThrows(IllegalArgumentException.class, () -> r.withOptions(Map.of("repeat", "1")));
    }
}
