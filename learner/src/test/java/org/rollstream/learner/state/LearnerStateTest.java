package org.rollstream.learner.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.grpo.TrainingGroup;
import org.rollstream.learner.state.LearnerState.Receipt;
import org.rollstream.schemas.records.AuditEntry;
import org.rollstream.schemas.records.AuditKind;
import org.rollstream.schemas.records.StepAudit;
import org.rollstream.transport.time.ManualTime;

class LearnerStateTest {
    private static final RunIdentity RUN = new RunIdentity("run-a", 0);
    private final ManualTime time = new ManualTime();

    private LearnerState state(int b, int eta) {
        LearnerState s = new LearnerState(RUN, b, eta, false, 60_000, time);
        s.publish(); // v0
        return s;
    }

    private static TrainingGroup group(String promptId, long version) {
        return new TrainingGroup(promptId + "#g", version, new int[] {1}, List.of(new int[] {5}),
                List.of(new float[] {-0.1f}), new double[] {1.0}, new double[] {0.0});
    }

    private static List<String> issue(LearnerState s, int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(s.issueNext());
        }
        return ids;
    }

    @Test
    void capacityIsEtaPlusStepsPlusOneTimesB() {
        LearnerState s = state(2, 1);
        assertEquals(4, s.room(), "(η + 0 + 1)·B");
        List<String> ids = issue(s, 4);
        assertEquals(0, s.room());
        assertThrows(IllegalStateException.class, s::issueNext);
        // a received group does not free room: it is accepted, not trained
        assertEquals(Receipt.ACCEPTED, s.receive(ids.get(0), group(ids.get(0), 0), true, true, 0, 10));
        assertEquals(0, s.room());
        // a duplicate never adds room
        assertEquals(Receipt.DUPLICATE, s.receive(ids.get(0), group(ids.get(0), 0), true, true, 0, 11));
        assertEquals(0, s.room());
        assertEquals(Receipt.ACCEPTED, s.receive(ids.get(1), group(ids.get(1), 0), true, true, 0, 12));
        LearnerState.Batch batch = s.nextBatch();
        assertNotNull(batch);
        s.trained(batch);
        s.publish();
        // v = 1: (1 + 1 + 1)·2 = 6 minus 2 trained and 2 in flight
        assertEquals(2, s.room());
    }

    @Test
    void aSamplingLagShrinksTheWindowAndLetsWeightsUpToLagUpdatesOldSample() {
        LearnerState s = new LearnerState(RUN, 2, 2, 1, false, 60_000, time);
        s.publish(); // v0
        assertEquals(4, s.room(), "(η − a + 0 + 1)·B");
        assertEquals(0, s.minSamplingVersion());
        List<String> ids = issue(s, 4);
        s.receive(ids.get(0), group(ids.get(0), 0), true, true, 0, 0);
        s.receive(ids.get(1), group(ids.get(1), 0), true, true, 0, 1);
        s.trained(s.nextBatch());
        s.publish(); // v1
        assertEquals(0, s.minSamplingVersion(), "v0 is one update behind v1");
        s.publish(); // v2, the same weights as v1: not an update
        assertEquals(0, s.minSamplingVersion(), "a re-publish of unchanged weights does not age v0");
        s.receive(ids.get(2), group(ids.get(2), 0), true, true, 0, 2);
        s.receive(ids.get(3), group(ids.get(3), 1), true, true, 0, 3);
        s.trained(s.nextBatch());
        s.publish(); // v3
        assertEquals(1, s.minSamplingVersion(), "v1 is one update behind v3, v0 two");
        assertThrows(IllegalArgumentException.class, () -> new LearnerState(RUN, 2, 2, 3, false, 60_000, time),
                "a lag beyond η would make groups older than η");
    }

    /**
     * The worst case of every (η, a): each prompt sampled with the oldest weights its issue allows and
     * received only when a step cannot go on without it. No group is stale, and the oldest is exactly η
     * updates old: the window is as deep as the bound allows, and one more B would break it.
     */
    @Test
    void withAnySamplingLagNoGroupIsOlderThanEtaEvenWhenSampledWithTheOldestWeightsAllowed() {
        for (int eta = 0; eta <= 3; eta++) {
            for (int lag = 0; lag <= eta; lag++) {
                LearnerState s = new LearnerState(RUN, 2, eta, lag, false, 60_000, time);
                s.publish();
                java.util.ArrayDeque<String> pending = new java.util.ArrayDeque<>();
                Map<String, Long> sampledWith = new java.util.HashMap<>();
                long oldest = 0;
                for (int step = 0; step < 12; step++) {
                    long min = s.minSamplingVersion();
                    for (long r = s.room(); r > 0; r--) {
                        String id = s.issueNext();
                        pending.add(id);
                        sampledWith.put(id, min);
                    }
                    for (int k = 0; k < 2; k++) {
                        String id = pending.poll();
                        long v = sampledWith.get(id);
                        oldest = Math.max(oldest, s.staleness(v));
                        assertEquals(Receipt.ACCEPTED, s.receive(id, group(id, v), true, true, 0, step * 2L + k),
                                "η " + eta + ", lag " + lag + ", step " + step + ": a group of v" + v + " at v" + s.version());
                    }
                    s.trained(s.nextBatch());
                    s.publish();
                }
                assertEquals(0, s.dropped(DropReason.STALE));
                assertEquals(eta, oldest, "η " + eta + ", lag " + lag + ": the bound is reached, so the window is as deep as it may be");
            }
        }
    }

    @Test
    void droppedAndTimedOutPromptsGiveRoomBack() {
        LearnerState s = state(2, 0);
        List<String> ids = issue(s, 2);
        time.advance(59_999);
        assertTrue(s.expire().isEmpty());
        time.advance(1);
        assertEquals(ids, s.expire());
        assertEquals(2, s.room());
        assertEquals(2, s.dropped(DropReason.TIMED_OUT));
        // a late group for a timed-out prompt is a duplicate of a final outcome, never trained
        assertEquals(Receipt.DUPLICATE, s.receive(ids.get(0), group(ids.get(0), 0), true, true, 0, 1));
    }

    @Test
    void staleGroupsAreDroppedAtArrivalAndWhileWaiting() {
        LearnerState s = state(1, 1);
        List<String> first = issue(s, 2);
        s.receive(first.get(0), group(first.get(0), 0), true, true, 0, 0);
        s.trained(s.nextBatch());
        s.publish(); // v1
        s.receive(first.get(1), group(first.get(1), 0), true, true, 0, 1); // staleness 1 = η: accepted
        String third = s.issueNext();
        s.receive(third, group(third, 1), true, true, 0, 2);
        s.trained(s.nextBatch());
        s.publish(); // v2: the waiting group from v1 would now be 1 old, fine; a v0 one is 2 old
        String fourth = s.issueNext();
        assertEquals(Receipt.DROPPED_STALE, s.receive(fourth, group(fourth, 0), true, true, 0, 3));
        assertEquals(1, s.dropped(DropReason.STALE));
        LearnerState.Batch b = s.nextBatch();
        assertEquals(List.of(third), b.promptIds());
    }

    @Test
    void republishingUnchangedWeightsDoesNotAgeGroups() {
        VersionLineage l = new VersionLineage();
        l.publish(0); // v0
        l.publish(1); // v1
        l.sawPublished(7); // a crashed incarnation got to v7
        long v = l.publish(1); // restart: same weights as v1
        assertEquals(8, v);
        assertEquals(0, l.staleness(1));
        assertEquals(1, l.staleness(0));
        assertEquals(VersionLineage.Status.ABANDONED, l.status(5));
        assertEquals(VersionLineage.Status.LINEAGE, l.status(8));
    }

    @Test
    void restoreRetrainsExactlyTheBufferedGroupsAndNeverATrainedOne() throws Exception {
        LearnerState s = state(2, 1);
        List<String> ids = issue(s, 4);
        s.receive(ids.get(0), group(ids.get(0), 0), true, true, 0, 100);
        s.receive(ids.get(1), group(ids.get(1), 0), true, true, 1, 200);
        LearnerState.Batch b = s.nextBatch();
        s.trained(b);
        s.publish();
        s.receive(ids.get(2), group(ids.get(2), 0), true, true, 0, 101); // buffered, not trained
        // checkpoint through JSON, as Checkpoints writes it
        ObjectMapper json = new ObjectMapper();
        String text = json.writeValueAsString(s.snapshot(Map.of(0, 102L, 1, 201L), Map.of(0, 7L)));
        LearnerState.Snapshot snap = json.readValue(text, LearnerState.Snapshot.class);
        assertEquals(101L, snap.offsets().get(0), "rewound to the buffered group");
        assertEquals(201L, snap.offsets().get(1));
        assertEquals(List.of(ids.get(0), ids.get(1)), snap.pendingTrained().stream().map(PromptLedger.Pending::promptId).toList(),
                "trained but not yet audited: the next incarnation must write them");

        LearnerState r = new LearnerState(new RunIdentity("run-a", 1), 2, 1, false, 60_000, time);
        r.restore(snap);
        assertEquals(Map.of(ids.get(2), 2L, ids.get(3), 3L), r.openPrompts(), "buffered and in-flight prompts are open");
        long v = r.publish();
        assertEquals(2, v, "a restart publishes above every version seen");
        // re-read: the trained groups are duplicates, the buffered one is accepted again
        assertEquals(Receipt.DUPLICATE, r.receive(ids.get(0), group(ids.get(0), 0), true, true, 0, 100));
        assertEquals(Receipt.ACCEPTED, r.receive(ids.get(2), group(ids.get(2), 0), true, true, 0, 101));
        assertEquals(Receipt.ACCEPTED, r.receive(ids.get(3), group(ids.get(3), 1), true, true, 0, 103));
        r.trained(r.nextBatch());
        StepAudit a = r.audit(AuditKind.STEP);
        assertEquals(List.of(ids.get(0), ids.get(1), ids.get(2), ids.get(3)), a.getTrained().stream().map(e -> e.getPromptId().toString()).toList());
        assertEquals(1, a.getIncarnation());
        assertEquals(2, a.getStep());
        assertEquals(4, r.trainedPrompts());
    }

    @Test
    void groupsOfAbandonedVersionsAreIgnoredAndThePromptWaits() {
        LearnerState s = state(1, 2);
        s.sawPublished(9);
        String id = s.issueNext();
        assertEquals(Receipt.ABANDONED_VERSION, s.receive(id, group(id, 5), true, true, 0, 0));
        assertEquals(Receipt.ABANDONED_VERSION, s.receive(id, group(id, 0), false, true, 0, 1), "another run's weights");
        assertEquals(1, s.inFlight());
        assertEquals(Receipt.ACCEPTED, s.receive(id, group(id, 0), true, true, 0, 2));
    }

    @Test
    void unissuedAndInvalidAndEndOfRunAreAccounted() {
        LearnerState s = state(1, 0);
        assertEquals(Receipt.NOT_IN_FLIGHT, s.receive("run-a/7", group("run-a/7", 0), true, true, 0, 0));
        String id = s.issueNext();
        assertTrue(s.invalid(id, id + "#g", 0));
        assertTrue(!s.invalid(id, id + "#g", 0), "already dropped");
        String next = s.issueNext();
        s.sawIssued(3); // an earlier incarnation issued up to index 3
        s.endRun();
        StepAudit a = s.audit(AuditKind.END);
        Map<String, String> reasons = a.getDropped().stream()
                .collect(Collectors.toMap(e -> e.getPromptId().toString(), e -> e.getReason().toString()));
        assertEquals(Map.of(id, "invalid", next, "run-ended", "run-a/2", "run-ended", "run-a/3", "run-ended"), reasons);
        for (AuditEntry e : a.getDropped()) {
            assertTrue(e.getPromptId().toString().startsWith("run-a/"));
        }
    }

    @Test
    void dynamicSamplingDropsUninformativeGroupsUntilFourBInARow() {
        LearnerState s = new LearnerState(RUN, 1, 8, true, 60_000, time);
        s.publish();
        for (int i = 0; i < 4; i++) {
            String id = s.issueNext();
            assertEquals(Receipt.DROPPED_UNINFORMATIVE, s.receive(id, group(id, 0), true, false, 0, i));
        }
        String id = s.issueNext();
        assertEquals(Receipt.ACCEPTED, s.receive(id, group(id, 0), true, false, 0, 9), "a run whose groups agree must not stall");
    }
}
