package org.rollstream.learner.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class GroupBookkeepingTest {
    @Test
    void stalenessGateDropsGroupsMoreThanEtaBehind() {
        StalenessGate gate = new StalenessGate(2);
        assertTrue(gate.admit(10, 10));
        assertTrue(gate.admit(8, 10));
        assertFalse(gate.admit(7, 10));
        assertTrue(gate.admit(11, 10), "a group from a newer version than the learner knows is not stale");
        assertEquals(3, gate.admitted());
        assertEquals(1, gate.dropped());
    }

    @Test
    void synchronousGateAdmitsOnlyTheCurrentVersion() {
        StalenessGate gate = new StalenessGate(0);
        assertTrue(gate.admit(4, 4));
        assertFalse(gate.admit(3, 4));
        assertThrows(IllegalArgumentException.class, () -> new StalenessGate(-1));
    }

    @Test
    void ledgerTrainsAGroupOnce() {
        GroupLedger ledger = new GroupLedger(3);
        assertTrue(ledger.firstTime("a"));
        assertFalse(ledger.firstTime("a"));
        assertTrue(ledger.firstTime("b"));
        assertEquals(1, ledger.duplicates());
        GroupLedger restored = new GroupLedger(3);
        restored.restore(ledger.snapshot());
        assertFalse(restored.firstTime("b"), "a restored ledger still knows what was trained");
    }

    @Test
    void ledgerForgetsTheOldestBeyondCapacity() {
        GroupLedger ledger = new GroupLedger(2);
        ledger.firstTime("a");
        ledger.firstTime("b");
        ledger.firstTime("c");
        assertFalse(ledger.contains("a"));
        assertEquals(List.of("b", "c"), ledger.snapshot());
    }

    @Test
    void dynamicSamplingSkipsAllEqualGroups() {
        assertFalse(DynamicSampling.informative(new double[] {1, 1, 1, 1}));
        assertFalse(DynamicSampling.informative(new double[] {0, 0}));
        assertTrue(DynamicSampling.informative(new double[] {1, 0, 1, 1}));
        assertFalse(DynamicSampling.informative(new double[] {1}));
    }

    @Test
    void inFlightCapacityIsEtaPlusOneTimesB() {
        assertEquals(16, GrpoConfig.defaults().withGroupsPerStep(8).withMaxStaleness(1).inFlightCapacity());
        assertEquals(8, GrpoConfig.defaults().withGroupsPerStep(8).withMaxStaleness(0).inFlightCapacity());
    }
}
