package org.rollstream.reward;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class LengthRewardTest {

    private static RewardInput in(int tokens, int max, FinishReason finish) {
        return RewardInput.builder().completionTokens(tokens).maxNewTokens(max).finishReason(finish).build();
    }

    @Test
    void dapoOverlongPenalty() {
        LengthReward r = new LengthReward(); // buffer 0.2 of 100 = 20 tokens, penalty starts after 80
        assertEquals(0.0, r.score(in(10, 100, FinishReason.STOP)));
        assertEquals(0.0, r.score(in(80, 100, FinishReason.STOP)));
        assertEquals(-0.25, r.score(in(85, 100, FinishReason.STOP)), 1e-12);
        assertEquals(-0.5, r.score(in(90, 100, FinishReason.STOP)), 1e-12);
        assertEquals(-1.0, r.score(in(100, 100, FinishReason.STOP)));
        assertEquals(-1.0, r.score(in(10, 100, FinishReason.LENGTH)), "truncated");
        assertEquals(-1.0, r.score(in(10, 0, FinishReason.LENGTH)));
    }

    @Test
    void bufferInTokens() {
        RewardFunction r = new LengthReward().withOptions(Map.of("buffer", "64"));
        assertEquals(0.0, r.score(in(192, 256, FinishReason.STOP)));
        assertEquals(-0.5, r.score(in(224, 256, FinishReason.STOP)), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new LengthReward().withOptions(Map.of("buffer", "x")));
        assertThrows(IllegalArgumentException.class, () -> new LengthReward().withOptions(Map.of("max", "1")));
        assertThrows(IllegalArgumentException.class, () -> new LengthReward(0));
    }

    @Test
    void unknownLimitIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> new LengthReward().score(in(10, 0, FinishReason.STOP)));
    }
}
