package org.rollstream.launcher.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.rollstream.schemas.records.AuditEntry;
import org.rollstream.schemas.records.AuditKind;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.StepAudit;

/** The checker on hand-made logs: it passes a clean resume and catches each way a run can break its promise. */
class LogAccountingTest {
    private static final String RUN = "r1";

    private static Prompt prompt(String run, String id) {
        return Prompt.newBuilder().setId(id).setTask("arithmetic").setText("1+1=").setAnswer("2").setRunId(run).build();
    }

    private static List<Prompt> prompts(int n) {
        List<Prompt> ps = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ps.add(prompt(RUN, RUN + "/" + i));
        }
        return ps;
    }

    private static AuditEntry trained(int prompt, long version) {
        return AuditEntry.newBuilder().setPromptId(RUN + "/" + prompt).setGroupId(RUN + "/" + prompt)
                .setPolicyVersion(version).build();
    }

    private static AuditEntry dropped(int prompt, String reason) {
        return AuditEntry.newBuilder().setPromptId(RUN + "/" + prompt).setReason(reason).build();
    }

    private static StepAudit step(long incarnation, long step, List<AuditEntry> trained, List<AuditEntry> dropped) {
        return StepAudit.newBuilder().setRunId(RUN).setIncarnation(incarnation).setStep(step).setKind(AuditKind.STEP)
                .setPolicyVersion(step).setTrained(trained).setDropped(dropped).setTimestampMs(step).build();
    }

    private static StepAudit end(long incarnation, long step, List<AuditEntry> dropped) {
        return StepAudit.newBuilder().setRunId(RUN).setIncarnation(incarnation).setStep(step).setKind(AuditKind.END)
                .setPolicyVersion(step).setTrained(List.of()).setDropped(dropped).setTimestampMs(step).build();
    }

    private static PolicyVersion version(String run, long incarnation, long v) {
        return PolicyVersion.newBuilder().setPolicy("default").setVersion(v).setRunId(run).setIncarnation(incarnation)
                .setStep(v).setWeightsLocation("w").setSha256("s").setCreatedAtMs(v).build();
    }

    private static List<PolicyVersion> versions(long... vs) {
        List<PolicyVersion> out = new ArrayList<>();
        for (long v : vs) {
            out.add(version(RUN, 0, v));
        }
        return out;
    }

    /**
     * Incarnation 0 trains steps 1-3 and checkpoints after step 1, then dies; incarnation 1 resumes at
     * step 1 and trains steps 2-3 again with other prompts. Prompts 2 and 3 of the dead incarnation's
     * step 2 are superseded: 2 is re-trained, 3 is dropped as stale; a clean END closes the run.
     */
    private static List<StepAudit> resumedRun() {
        return List.of(
                step(0, 1, List.of(trained(0, 0), trained(1, 0)), List.of()),
                step(0, 2, List.of(trained(2, 1), trained(3, 1)), List.of()),
                step(0, 3, List.of(trained(4, 2)), List.of()),
                step(1, 2, List.of(trained(2, 1), trained(4, 1)), List.of(dropped(3, "stale"))),
                step(1, 3, List.of(trained(5, 3)), List.of(dropped(6, "uninformative"))),
                end(1, 3, List.of(dropped(7, "run-ended"))));
    }

    @Test
    void aResumedRunThatAccountsForEverythingPasses() {
        LogAccounting.Result r = LogAccounting.account(RUN, prompts(8), resumedRun(), versions(0, 1, 2, 3));
        assertTrue(r.ok(), r.violations().toString());
        assertEquals(8, r.issued());
        assertEquals(Set.of("r1/0", "r1/1", "r1/2", "r1/4", "r1/5"), r.trained());
        assertEquals(Map.of("run-ended", Set.of("r1/7"), "stale", Set.of("r1/3"), "uninformative", Set.of("r1/6")),
                r.droppedByReason());
        assertEquals(2, r.supersededRecords(), "incarnation 0's steps 2 and 3");
        assertEquals(3, r.effectiveSteps());
        assertTrue(r.ended());
    }

    @Test
    void aSupersededStepDoesNotCount() {
        // without incarnation 1's step 3, prompt 4 was trained only by the superseded step 3 of incarnation 0:
        // incarnation 1 resumed before step 3 (it wrote step 2), so prompt 4 would be trained 0 times...
        List<StepAudit> log = new ArrayList<>(resumedRun());
        log.set(3, step(1, 2, List.of(trained(2, 1)), List.of(dropped(3, "stale"))));
        LogAccounting.Result r = LogAccounting.account(RUN, prompts(8), log, versions(0, 1, 2, 3));
        assertEquals(List.of("r1/4"), r.lost(), "a superseded step's training does not count");
        assertFalse(r.ok());
        // ...and had the superseded record counted, prompt 2 would have been trained twice: it is not
        assertTrue(r.trainedTwice().isEmpty(), r.trainedTwice().toString());
    }

    @Test
    void aLostPromptIsReported() {
        LogAccounting.Result r = LogAccounting.account(RUN, prompts(9), resumedRun(), versions(0, 1, 2, 3));
        assertEquals(List.of("r1/8"), r.lost());
        assertFalse(r.ok());
        assertTrue(r.violations().get(0).startsWith("1 lost"), r.violations().toString());
    }

    @Test
    void aPromptTrainedTwiceInTheEffectiveLogIsReported() {
        List<StepAudit> log = new ArrayList<>(resumedRun());
        log.set(4, step(1, 3, List.of(trained(5, 3), trained(1, 3)), List.of(dropped(6, "uninformative"))));
        LogAccounting.Result r = LogAccounting.account(RUN, prompts(8), log, versions(0, 1, 2, 3));
        assertEquals(List.of("r1/1 (2x)"), r.trainedTwice());
        assertFalse(r.ok());
    }

    @Test
    void aRepeatedOrDecreasingVersionIsReported() {
        List<PolicyVersion> vs = new ArrayList<>(versions(0, 1, 2));
        vs.add(version(RUN, 1, 2)); // a restart republishing v2: the bug of issue 7, item 1
        vs.add(version(RUN, 1, 3));
        vs.add(version("other-run", 0, 1)); // another run's numbering is not this run's concern
        LogAccounting.Result r = LogAccounting.account(RUN, prompts(8), resumedRun(), vs);
        assertEquals(List.of("v2 (incarnation 1) after v2"), r.versionProblems());
        assertFalse(r.ok());
    }

    @Test
    void aGroupSampledWithAnUnpublishedVersionIsReported() {
        LogAccounting.Result r = LogAccounting.account(RUN, prompts(8), resumedRun(), versions(0, 1, 2));
        assertEquals(List.of("r1/5@3"), r.unpublishedVersions());
        assertFalse(r.ok());
    }

    @Test
    void dropsNeedAKnownReasonAndExcludeTraining() {
        List<StepAudit> log = new ArrayList<>(resumedRun());
        log.set(4, step(1, 3, List.of(trained(5, 3)), List.of(dropped(6, ""), dropped(5, "stale"))));
        LogAccounting.Result r = LogAccounting.account(RUN, prompts(8), log, versions(0, 1, 2, 3));
        assertEquals(List.of("r1/6 (\"\")"), r.droppedWithoutReason());
        assertEquals(List.of("r1/5 (stale)"), r.droppedAndTrained());
        assertEquals(2, r.violations().size(), r.violations().toString());
    }

    @Test
    void aResumeAtTheFinalCheckpointKeepsTheLastStep() {
        // incarnation 0 trains its last step and dies before its END; incarnation 1 resumes at that
        // checkpoint, has nothing left to train and writes only an END at the same step
        List<StepAudit> log = List.of(
                step(0, 1, List.of(trained(0, 0)), List.of()),
                step(0, 2, List.of(trained(1, 1)), List.of()),
                end(1, 2, List.of(dropped(2, "run-ended"))));
        LogAccounting.Result r = LogAccounting.account(RUN, prompts(3), log, versions(0, 1, 2));
        assertTrue(r.ok(), r.violations().toString());
        assertEquals(Set.of("r1/0", "r1/1"), r.trained());
    }

    @Test
    void anEarlierEndIsVoidedByALaterIncarnation() {
        List<StepAudit> log = List.of(
                step(0, 1, List.of(trained(0, 0)), List.of()),
                end(0, 1, List.of(dropped(1, "run-ended"))),
                step(1, 2, List.of(trained(1, 1)), List.of()),
                end(1, 2, List.of()));
        LogAccounting.Result r = LogAccounting.account(RUN, prompts(2), log, versions(0, 1));
        assertTrue(r.ok(), r.violations().toString());
        assertEquals(1, r.supersededRecords());
    }

    @Test
    void otherRunsAndNeverIssuedPromptsAreTellable() {
        List<Prompt> ps = new ArrayList<>(prompts(8));
        ps.add(prompt("r2", "r2/0")); // another run on the same cluster
        ps.add(prompt("", RUN + "/extra")); // written before prompts carried a run id: matched by prefix
        List<StepAudit> log = new ArrayList<>(resumedRun());
        log.set(4, step(1, 3, List.of(trained(5, 3), trained(99, 3)), List.of(dropped(6, "uninformative"))));
        LogAccounting.Result r = LogAccounting.account(RUN, ps, log, versions(0, 1, 2, 3));
        assertEquals(9, r.issued());
        assertEquals(List.of("r1/extra"), r.lost());
        assertEquals(List.of("r1/99"), r.trainedNeverIssued());
    }

    @Test
    void anEmptyAuditLogFailsLoudly() {
        LogAccounting.Result r = LogAccounting.account(RUN, prompts(3), List.of(), versions(0));
        assertEquals(3, r.lost().size());
        assertTrue(r.violations().get(0).startsWith("no StepAudit records"), r.violations().toString());
    }
}
