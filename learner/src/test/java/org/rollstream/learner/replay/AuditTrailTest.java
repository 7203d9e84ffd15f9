package org.rollstream.learner.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.rollstream.schemas.records.AuditEntry;
import org.rollstream.schemas.records.AuditKind;
import org.rollstream.schemas.records.StepAudit;

class AuditTrailTest {
    private static StepAudit audit(String run, long incarnation, long step, AuditKind kind, String... groups) {
        List<AuditEntry> trained = java.util.Arrays.stream(groups).map(g -> AuditEntry.newBuilder().setPromptId(run + "/" + g)
                .setGroupId(g).setPolicyVersion(step - 1).setReason("").build()).toList();
        return StepAudit.newBuilder().setRunId(run).setIncarnation(incarnation).setStep(step).setKind(kind)
                .setPolicyVersion(step).setTrained(trained).setDropped(List.of()).setTimestampMs(0).build();
    }

    @Test
    void theHighestIncarnationsRecordOfAStepIsEffective() {
        AuditTrail t = AuditTrail.of("r", List.of(
                audit("r", 0, 1, AuditKind.STEP, "a", "b"),
                audit("r", 0, 2, AuditKind.STEP, "c", "d"),  // crashed after this; resumed from step 1
                audit("r", 1, 2, AuditKind.STEP, "e", "c"),
                audit("r", 0, 3, AuditKind.STEP, "x"),       // superseded although written... by the lower incarnation
                audit("r", 1, 3, AuditKind.STEP, "f"),
                audit("r", 1, 3, AuditKind.END),
                audit("other", 5, 2, AuditKind.STEP, "z")));
        assertEquals(List.of("a", "b"), ids(t.trained(1)));
        assertEquals(List.of("e", "c"), ids(t.trained(2)), "in the order the step trained them");
        assertEquals(1, t.incarnation(2));
        assertEquals(List.of("f"), ids(t.trained(3)), "an END record is not a step");
        assertEquals(2, t.stepOfGroup("c"));
        assertEquals(-1, t.stepOfGroup("d"), "the crashed incarnation's step 2 did not survive");
        assertEquals(-1, t.stepOfGroup("z"), "another run's group");
        ReplayException e = assertThrows(ReplayException.class, () -> t.trained(4));
        assertTrue(e.getMessage().contains("steps 1..3"), e.getMessage());
    }

    private static List<String> ids(List<AuditEntry> entries) {
        return entries.stream().map(a -> a.getGroupId().toString()).toList();
    }
}
