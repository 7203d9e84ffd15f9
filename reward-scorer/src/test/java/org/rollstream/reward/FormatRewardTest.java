package org.rollstream.reward;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class FormatRewardTest {

    private static double score(String completion) {
        return new FormatReward().score(RewardInput.builder().completion(completion).build());
    }

    @Test
    void acceptsTheCanonicalShape() {
        assertEquals(1.0, score("<think>7+8=15 3+4+1=8</think><answer>85</answer>"));
        assertEquals(1.0, score("<think></think><answer>85</answer>"), "empty reasoning is allowed");
        assertEquals(1.0, score("  <think>a\nb</think>\n<answer>85</answer>\n"), "documented whitespace tolerance");
    }

    @Test
    void rejectsEverythingElse() {
        assertEquals(0.0, score("<think>a</think><answer>85</answer>more"), "nothing after the answer");
        assertEquals(0.0, score("x<think>a</think><answer>85</answer>"), "nothing before the reasoning");
        assertEquals(0.0, score("<think>a</think>so<answer>85</answer>"), "nothing between");
        assertEquals(0.0, score("<answer>85</answer>"));
        assertEquals(0.0, score("<think>a</think>"));
        assertEquals(0.0, score("<think>a</think><answer> </answer>"), "blank answer");
        assertEquals(0.0, score("<think>a</think><answer>1</answer><answer>2</answer>"));
        assertEquals(0.0, score("<think>a<think>b</think><answer>85</answer>"));
        assertEquals(0.0, score("<think>a</think><answer>85"));
        assertEquals(0.0, score("<think>a</think><answer>85</answer></answer>"));
        assertEquals(0.0, score(""));
    }

    @Test
    void longCompletionsAreFine() {
        assertEquals(1.0, score("<think>" + "a".repeat(200_000) + "</think><answer>1</answer>"));
    }
}
