package org.rollstream.learner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.grpo.StalenessGate;
import org.rollstream.learner.grpo.TrainingGroup;

class GroupBufferTest {
    private static TrainingGroup group(String id, long version, double... rewards) {
        List<int[]> tokens = new java.util.ArrayList<>();
        List<float[]> lps = new java.util.ArrayList<>();
        double[] adv = new double[rewards.length];
        for (int i = 0; i < rewards.length; i++) {
            tokens.add(new int[] {5});
            lps.add(new float[] {-1f});
        }
        return new TrainingGroup(id, version, new int[] {1}, tokens, lps, rewards, adv);
    }

    @Test
    void takesBFreshInformativeGroupsAndDropsStaleOnes() {
        GroupBuffer buffer = new GroupBuffer(2, true);
        StalenessGate gate = new StalenessGate(1);
        buffer.add(group("old", 3, 1, 0), 0, 10);
        buffer.add(group("a", 5, 1, 0), 0, 11);
        assertNull(buffer.take(gate, 5), "one fresh group is not a step of two");
        buffer.add(group("flat", 5, 1, 1), 1, 7);
        assertNull(buffer.take(gate, 5), "an all-equal group does not count");
        buffer.add(group("b", 4, 0, 1), 1, 8);
        List<TrainingGroup> step = buffer.take(gate, 5);
        assertEquals(List.of("a", "b"), step.stream().map(TrainingGroup::groupId).toList());
        assertEquals(1, gate.dropped(), "the group two versions behind was dropped");
        assertEquals(0, buffer.size());
        assertEquals(1, buffer.skipped());
    }

    @Test
    void fillsUpWithUninformativeGroupsAfterFourStepsWorth() {
        GroupBuffer buffer = new GroupBuffer(2, true);
        StalenessGate gate = new StalenessGate(0);
        buffer.add(group("a", 0, 1, 0), 0, 0);
        for (int i = 0; i < 7; i++) {
            buffer.add(group("flat" + i, 0, 0, 0), 0, i + 1);
        }
        assertNull(buffer.take(gate, 0), "seven skips are fewer than 4·B");
        buffer.add(group("flat7", 0, 0, 0), 0, 8);
        assertEquals(List.of("a", "flat0"), buffer.take(gate, 0).stream().map(TrainingGroup::groupId).toList());
    }

    @Test
    void safeOffsetsPointAtTheEarliestUntrainedGroup() {
        GroupBuffer buffer = new GroupBuffer(1, false);
        buffer.add(group("x", 0, 1, 0), 0, 40);
        buffer.add(group("y", 0, 1, 0), 0, 41);
        buffer.add(group("z", 0, 1, 0), 2, 9);
        buffer.take(new StalenessGate(0), 0); // trains x
        assertEquals(Map.of(0, 41L, 1, 5L, 2, 9L), buffer.safeOffsets(Map.of(0, 50L, 1, 5L, 2, 12L)));
    }

    @Test
    void meanRewardCoversEveryReceivedGroup() {
        GroupBuffer buffer = new GroupBuffer(1, true);
        buffer.add(group("a", 0, 1, 0), 0, 0);
        buffer.add(group("b", 0, 1, 1), 0, 1);
        assertEquals(0.75, buffer.drainMeanReward(), 1e-12);
        assertEquals(Double.NaN, buffer.drainMeanReward());
    }
}
