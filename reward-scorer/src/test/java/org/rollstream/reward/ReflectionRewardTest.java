package org.rollstream.reward;

import org.junit.jupiter.api.Test;
import org.rollstream.tasks.ArithmeticTask;
import org.rollstream.tasks.LogicTask;
import org.rollstream.tasks.Reflection;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ReflectionRewardTest {

    private static final TaskInstance SUM = ArithmeticTask.instance(ArithmeticTask.Op.ADD, 37, 48); // 85
    private final RewardFunction r = new ReflectionReward();

    private static RewardInput in(TaskInstance p, String completion) {
        return RewardInput.forProblem(p).completion(completion).build();
    }

    private double score(String completion) {
        return r.score(in(SUM, completion));
    }

    @Test
    void aRealCorrectionEarnsTheCredit() {
        assertEquals(1.0, score("<think>7+8=15 3+4+1=9 check: 37+48=95 no 7+8=15 3+4+1=8 85</think><answer>85</answer>"));
        assertEquals(1.0, score("<think>7+8=15 3+4+1=9 check: 95 no 85</think><answer>85</answer>"), "claim without the prompt");
    }

    @Test
    void talkingAboutCheckingEarnsNothing() {
        assertEquals(0.0, score("<think>7+8=15 3+4+1=8 let me check 85 again, yes it is right</think><answer>85</answer>"));
        assertEquals(0.0, score("<think>7+8=15 3+4+1=8</think><answer>85</answer>"), "right but no check");
        assertEquals(0.0, score("<think>check: 85 looks fine</think><answer>85</answer>"), "not the grammar");
    }

    @Test
    void falseChecksEarnNothing() {
        // "ok" on a wrong claim
        assertEquals(0.0, score("<think>7+8=15 3+4+1=9 check: 37+48=95 ok</think><answer>95</answer>"));
        // "no" on a right claim, "fixing" it into a wrong one
        assertEquals(0.0, score("<think>7+8=15 3+4+1=8 check: 37+48=85 no 86</think><answer>86</answer>"));
        // a wrong candidate rejected, but the correction is wrong too
        assertEquals(0.0, score("<think>check: 95 no 84</think><answer>84</answer>"));
        // one true and one false check
        assertEquals(0.0, score("<think>check: 95 no 85 check: 84 ok</think><answer>85</answer>"));
    }

    @Test
    void theFinalAnswerMustBeTheCorrectedOne() {
        assertEquals(0.0, score("<think>7+8=15 3+4+1=9 check: 37+48=95 no 85</think><answer>95</answer>"));
        assertEquals(0.0, score("<think>check: 95 no 85</think>"), "no answer at all");
        assertEquals(1.0, score("<think>check: 95 no 85 check: 85 ok</think><answer>85</answer>"), "fixed then confirmed");
    }

    @Test
    void aTrueConfirmationEarnsTheConfirmShare() {
        assertEquals(0.5, score("<think>7+8=15 3+4+1=8 check: 37+48=85 ok</think><answer>85</answer>"));
        RewardFunction even = r.withOptions(Map.of("confirm", "1"));
        assertEquals(1.0, even.score(in(SUM, "<think>check: 85 ok</think><answer>85</answer>")));
    }

    @Test
    void theOptionalPenaltyMakesFalseChecksCost() {
        RewardFunction strict = r.withOptions(Map.of("penalty", "0.5"));
        assertEquals(-0.5, strict.score(in(SUM, "<think>check: 37+48=95 ok</think><answer>95</answer>")));
        assertEquals(-0.5, strict.score(in(SUM, "<think>check: 95 maybe</think><answer>85</answer>")), "malformed check");
        assertEquals(0.0, strict.score(in(SUM, "<think>7+8=15</think><answer>85</answer>")), "no check is not penalised");
        assertEquals(1.0, strict.score(in(SUM, "<think>check: 95 no 85</think><answer>85</answer>")));
        assertThrows(IllegalArgumentException.class, () -> r.withOptions(Map.of("bonus", "1")));
        assertThrows(IllegalArgumentException.class, () -> r.withOptions(Map.of("penalty", "x")));
        assertThrows(IllegalArgumentException.class, () -> r.withOptions(Map.of("confirm", "2")));
    }

    @Test
    void logicChecksAreJudgedByTheLogicVerifier() {
        TaskInstance p = LogicTask.instance("(a&!b)+c", "a=T,b=T,c=F"); // F
        assertEquals(1.0, r.score(in(p, "<think>(T&!T)+F (T&T)+F T+F T check: T no (T&!T)+F (T&F)+F F+F F F</think><answer>F</answer>")));
        assertEquals(0.0, r.score(in(p, "<think>(T&!T)+F (T&T)+F T+F T check: T ok</think><answer>T</answer>")));
    }

    @Test
    void generatedReflectiveTracesEarnFullCreditAndFlawedOnesNone() {
        TaskRegistry reg = TaskRegistry.defaults();
        Random rnd = new Random(4);
        for (String name : new String[] {"arithmetic", "countdown", "logic"}) {
            var task = reg.resolve(name);
            for (int i = 0; i < 100; i++) {
                TaskInstance p = task.sample(rnd);
                assertEquals(1.0, r.score(in(p, Reflection.trace(task, p, rnd))), name);
                assertEquals(0.0, r.score(in(p, task.trace(p, true, rnd))), name);
                assertEquals(0.0, r.score(in(p, task.trace(p, false, rnd))), name);
            }
        }
    }

    @Test
    void unknownTaskIsABrokenRecord() {
        RewardInput bad = RewardInput.builder().task("nope").prompt("x").answer("1").completion("<think>check: 1 ok</think><answer>1</answer>").build();
        assertThrows(IllegalArgumentException.class, () -> r.score(bad));
    }
}
