package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RescoreDiffTest {
    @Test
    void countsFlipsReorderingsAndLostSignal() {
        RescoreDiff d = new RescoreDiff();
        // unchanged group
        d.add(new double[] {1, 0}, new double[] {1, -1}, new double[] {1, 0}, new double[] {1, -1});
        // reversed ranking: both advantages flip, one discordant pair of one
        d.add(new double[] {1, 0}, new double[] {1, -1}, new double[] {0, 1}, new double[] {-1, 1});
        // loses its signal: no sign flips (0 is no sign), a tie where there was an order
        d.add(new double[] {2, 0, 1}, new double[] {1, -1, 0}, new double[] {0, 0, 0}, new double[] {0, 0, 0});
        assertEquals(3, d.groups);
        assertEquals(7, d.completions);
        assertEquals(1, d.groupsFlipped);
        assertEquals(2, d.completionsFlipped);
        assertEquals(2, d.groupsReordered);
        assertEquals((0 + 1.0 + 1.0) / 3, d.kendallDistanceSum / d.groups, 1e-12);
        assertEquals(1, d.groupsBecameUninformative);
        assertEquals(0, d.groupsBecameInformative);
        assertEquals((0 + 2 + 3) / 7.0, d.meanAbsRewardDiff(), 1e-12);
        assertEquals(1.0 / 3, d.shareGroupsFlipped(), 1e-12);
    }
}
