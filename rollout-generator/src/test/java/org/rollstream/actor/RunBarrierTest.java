package org.rollstream.actor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.rollstream.actor.RunBarrier.Action;
import org.rollstream.schemas.records.Prompt;

/** Which weights may sample which prompt, and when an actor switches weights: run identity over version numbers. */
class RunBarrierTest {
    private final AnnouncedRuns runs = new AnnouncedRuns();
    private final RunBarrier barrier = new RunBarrier(runs);

    @Test
    void anotherRunAlwaysSupersedesWhateverItsVersion() {
        PolicyIdentity a60 = new PolicyIdentity("A", 0, 60);
        assertTrue(a60.isSupersededBy(new PolicyIdentity("B", 0, 0)), "a new run at v0 replaces an old run at v60");
        assertTrue(a60.isSupersededBy(new PolicyIdentity("A", 0, 61)));
        assertFalse(a60.isSupersededBy(new PolicyIdentity("A", 0, 60)), "the same weights again");
        assertFalse(a60.isSupersededBy(new PolicyIdentity("A", 0, 59)), "an older version of the same run");
        assertTrue(a60.isSupersededBy(new PolicyIdentity("A", 1, 60)), "a later incarnation of the run");
        assertFalse(new PolicyIdentity("A", 1, 3).isSupersededBy(new PolicyIdentity("A", 0, 9)), "an earlier incarnation");
        assertFalse(new PolicyIdentity(null, 0, 4).isSupersededBy(new PolicyIdentity("", 0, 4)), "no run id: versions alone, as before");
    }

    @Test
    void aPromptIsSampledOnlyWithItsRunsWeightsAtItsVersion() {
        runs.announced("A");
        PolicyIdentity a5 = new PolicyIdentity("A", 0, 5);
        assertEquals(Action.SAMPLE, barrier.decide(prompt("A", 5), a5, false).action());
        assertEquals(Action.WAIT, barrier.decide(prompt("A", 6), a5, false).action());
        assertEquals(Action.WAIT, barrier.decide(prompt("B", 0), a5, false).action(), "B's weights may be loading");
        assertEquals(Action.SAMPLE, barrier.decide(prompt("", 5), a5, false).action(), "a prompt from before run ids");
        assertEquals(Action.WAIT, barrier.decide(prompt("", 6), a5, false).action());
    }

    @Test
    void anExpiredWaitSamplesBelowTheVersionButNeverWithAnotherRunsWeights() {
        runs.announced("A");
        PolicyIdentity a5 = new PolicyIdentity("A", 0, 5);
        RunBarrier.Decision late = barrier.decide(prompt("A", 7), a5, true);
        assertEquals(Action.SAMPLE, late.action(), "the learner judges its staleness");
        assertTrue(late.reason().contains("needs v7"), late.reason());
        RunBarrier.Decision stranger = barrier.decide(prompt("B", 0), a5, true);
        assertEquals(Action.REFUSE, stranger.action());
        assertTrue(stranger.reason().contains("no weights of run 'B' arrived"), stranger.reason());
        assertNull(barrier.decide(prompt("A", 5), a5, true).reason());
    }

    @Test
    void promptsOfASupersededRunAreRefusedAtOnceUnlessItsWeightsStillServe() {
        runs.announced("A");
        runs.announced("B");
        assertTrue(runs.isRetired("A"));
        assertEquals("B", runs.current());
        RunBarrier.Decision d = barrier.decide(prompt("A", 0), new PolicyIdentity("B", 0, 0), false);
        assertEquals(Action.REFUSE, d.action());
        assertTrue(d.reason().contains("superseded on policy.versions by run 'B'"), d.reason());
        // B's weights were refused, so A's still serve: A's prompts are still A's to sample
        assertEquals(Action.SAMPLE, barrier.decide(prompt("A", 0), new PolicyIdentity("A", 0, 3), false).action());
        runs.announced("A"); // A announces again: current once more
        assertFalse(runs.isRetired("A"));
        assertTrue(runs.isRetired("B"));
    }

    static Prompt prompt(String run, long minVersion) {
        return Prompt.newBuilder().setId("p-" + run + "-" + minVersion).setTask("arithmetic").setText("1+1=").setAnswer("2")
                .setRunId(run).setMinPolicyVersion(minVersion).build();
    }
}
