package org.rollstream.reward;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class CompositeRewardTest {

    private static RewardInput input(String completion, int tokens, FinishReason finish) {
        return RewardInput.builder().task("arithmetic").prompt("37+48=").answer("85")
                .completion(completion).completionTokens(tokens).finishReason(finish).maxNewTokens(100).build();
    }

    @Test
    void builtInsAreDiscoveredWithServiceLoader() {
        assertEquals(Set.of("accuracy", "format", "language", "length", "readability", "reflection"), RewardFunctions.discover().keySet());
    }

    @Test
    void weightedTotalAndComponents() {
        CompositeReward r = new CompositeReward(RewardConfig.parse("accuracy=1.0,format=0.2,language=0.0,length=0.1"));
        RewardScore good = r.score(input("<think>7+8=15 3+4+1=8</think><answer>85</answer>", 20, FinishReason.STOP));
        assertEquals(Map.of("accuracy", 1.0, "format", 1.0, "language", 1.0, "length", 0.0), good.components());
        assertEquals(List.of("accuracy", "format", "language", "length"), List.copyOf(good.components().keySet()));
        assertEquals(1.2, good.total(), 1e-12);
        // wrong, badly formed, truncated: 0*1 + 0*0.2 + 1*0 + (-1)*0.1
        RewardScore bad = r.score(input("<think>7+8=15 3+4", 100, FinishReason.LENGTH));
        assertEquals(Map.of("accuracy", 0.0, "format", 0.0, "language", 1.0, "length", -1.0), bad.components());
        assertEquals(-0.1, bad.total(), 1e-12);
    }

    @Test
    void unknownNameListsTheAvailableOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CompositeReward(RewardConfig.parse("accuracy=1,judge=0.5")));
        assertEquals("unknown reward 'judge'; available: accuracy, format, language, length, readability, reflection, "
                + "or an external reward: judge.type=http|onnx|topic", e.getMessage());
    }

    @Test
    void aFailingFunctionIsNeverAZero() {
        RewardFunction boom = new RewardFunction() {
            public String name() { return "boom"; }
            public double score(RewardInput in) { throw new IllegalStateException("judge unreachable"); }
        };
        RewardFunction nan = new RewardFunction() {
            public String name() { return "nan"; }
            public double score(RewardInput in) { return Double.NaN; }
        };
        RewardInput in = input("<answer>85</answer>", 3, FinishReason.STOP);
        RewardException e = assertThrows(RewardException.class,
                () -> new CompositeReward(RewardConfig.parse("accuracy=1,boom=1"), List.of(new AccuracyReward(), boom)).score(in));
        assertEquals("boom", e.function());
        assertEquals("reward 'boom' failed: judge unreachable", e.getMessage());
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertEquals("nan", assertThrows(RewardException.class,
                () -> new CompositeReward(RewardConfig.parse("nan=1"), List.of(nan)).score(in)).function());
        // a broken record (unknown task) also surfaces, naming accuracy
        RewardInput broken = RewardInput.builder().task("algebra").prompt("p").answer("1").completion("<answer>1</answer>").build();
        assertEquals("accuracy", assertThrows(RewardException.class,
                () -> new CompositeReward(RewardConfig.defaults()).score(broken)).function());
    }

    @Test
    void optionsReachTheFunctions() {
        CompositeReward r = new CompositeReward(RewardConfig.parse("length=1,length.buffer=40"));
        assertEquals(-0.5, r.score(input("x", 80, FinishReason.STOP)).total(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new CompositeReward(RewardConfig.parse("format=1,format.strict=yes")));
    }
}
