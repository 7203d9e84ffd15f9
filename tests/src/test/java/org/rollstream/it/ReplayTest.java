package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.learner.replay.ReplayException;
import org.rollstream.learner.replay.ReplayReport;
import org.rollstream.learner.replay.StepReplayer;
import org.rollstream.transport.KafkaSettings;

/**
 * A recorded run's steps re-executed by {@code rollstream replay} match what the run recorded, bit for
 * bit in the deterministic mode (the run and the replay each with one libtorch thread); a what-if replay
 * with another learning rate does not; and missing inputs are clear errors with exit code 2.
 *
 * <p>The run ({@link RecordedRun}): a checkpoint every 2 steps of 4 (kept: steps 2 and 4),
 * so steps 3..4 replay from the step-2 checkpoint and steps 1..2 have none left.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ReplayTest {
    static final int B = RecordedRun.B;

    @TempDir
    static Path dir;
    static Path runDir;

    @BeforeAll
    static void record(KafkaSettings kafka) {
        runDir = RecordedRun.get(kafka);
    }

    private static StepReplayer.Options options(long from, long to, int threads, UnaryOperator<GrpoConfig> override,
                                                ReplayReport.Tolerance tolerance) {
        return new StepReplayer.Options(from, to, threads, override, tolerance);
    }

    @Test
    void deterministicReplayMatchesTheRecordedStepsBitForBit(KafkaSettings kafka) {
        ReplayReport r = StepReplayer.replay(runDir, kafka, options(3, 4, 1, g -> g, ReplayReport.Tolerance.EXACT));
        r.print(System.out);
        assertEquals(2, r.checkpointStep(), "starts from the step-2 checkpoint");
        assertEquals(List.of(3L, 4L), r.steps().stream().map(ReplayReport.Step::step).toList());
        for (ReplayReport.Step s : r.steps()) {
            assertEquals(B, s.groups());
            for (ReplayReport.Value v : s.values()) {
                assertFalse(Double.isNaN(v.recorded()), "the run recorded " + v.metric() + " of step " + s.step());
                assertEquals(Double.doubleToLongBits(v.recorded()), Double.doubleToLongBits(v.replayed()),
                        v.metric() + " of step " + s.step() + ": " + v.recorded() + " vs " + v.replayed());
            }
            assertTrue(s.value("grad_norm").recorded() > 0, "a real gradient was compared");
        }
        assertEquals(ReplayReport.Verdict.EXACT, r.verdict());
    }

    @Test
    void aReplayWithAnotherLearningRateDoesNotMatch(KafkaSettings kafka) {
        ReplayReport r = StepReplayer.replay(runDir, kafka, options(3, 4, 1, g -> g.toBuilder().learningRate(1e-2).build(),
                new ReplayReport.Tolerance(1e-3, 1e-7, false)));
        r.print(System.out);
        assertTrue(r.overridden());
        // step 3 is computed before its own update, so only the weights it leaves behind differ
        assertEquals(ReplayReport.Verdict.EXACT, r.steps().get(0).verdict(r.tolerance()));
        assertEquals(ReplayReport.Verdict.DIFFERS, r.steps().get(1).verdict(r.tolerance()));
        assertNotEquals(r.steps().get(1).value("loss").recorded(), r.steps().get(1).value("loss").replayed());
        assertFalse(r.matches());
    }

    @Test
    void moreThreadsStayWithinTheStatedTolerance(KafkaSettings kafka) {
        ReplayReport r = StepReplayer.replay(runDir, kafka, options(3, 4, 2, g -> g, new ReplayReport.Tolerance(
                1e-3, 1e-7, false)));
        System.out.printf(Locale.ROOT, "replay with 2 threads of a 1-thread run: verdict %s, largest relative difference %.3e%n",
                r.verdict(), r.maxRelDiff());
        assertTrue(r.matches(), "within 1e-3 relative: " + r.maxRelDiff());
    }

    @Test
    void theCommandPrintsATableAndAVerdict(KafkaSettings kafka) {
        RecordedRun.Outcome ok = cli("replay", "--bootstrap-servers", kafka.bootstrapServers(), "--run-dir", runDir.toString(),
                "--steps", "3..4", "--exact");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("verdict: EXACT"), ok.out());
        assertTrue(ok.out().contains("grad_norm"), ok.out());
        RecordedRun.Outcome what = cli("replay", "--bootstrap-servers", kafka.bootstrapServers(), "--run-dir", runDir.toString(),
                "--steps", "3..4", "--kl-beta", "0.5");
        assertEquals(1, what.code(), "a different KL beta changes the loss of step 3 already: " + what.out());
        assertTrue(what.out().contains("verdict: DIFFERS"), what.out());
    }

    @Test
    void missingInputsAreClearErrorsWithExitCodeTwo(KafkaSettings kafka) {
        String bs = kafka.bootstrapServers();
        RecordedRun.Outcome noDir = cli("replay", "--bootstrap-servers", bs, "--run-dir", dir.resolve("nope").toString(), "--steps", "1");
        assertEquals(2, noDir.code());
        assertTrue(noDir.err().contains("does not exist"), noDir.err());

        RecordedRun.Outcome noCheckpoint = cli("replay", "--bootstrap-servers", bs, "--run-dir", runDir.toString(), "--steps", "1..2");
        assertEquals(2, noCheckpoint.code());
        assertTrue(noCheckpoint.err().contains("no checkpoint at or before step 0"), noCheckpoint.err());

        RecordedRun.Outcome noAudit = cli("replay", "--bootstrap-servers", bs, "--run-dir", runDir.toString(), "--steps", "3..9");
        assertEquals(2, noAudit.code());
        assertTrue(noAudit.err().contains("no StepAudit record of step 5"), noAudit.err());

        RecordedRun.Outcome byTime = cli("replay", "--bootstrap-servers", bs, "--run-dir", runDir.toString(), "--from-time", "0");
        assertTrue(byTime.out().contains("trained by steps 1..4"), "a range of rollouts.scored selects the steps that trained it: "
                + byTime.out());
        assertEquals(2, byTime.code(), "and steps 1..2 have no checkpoint left");
        assertEquals(2, cli("replay", "--bootstrap-servers", bs, "--run-dir", runDir.toString()).code(), "no range at all");

        RecordedRun.Outcome badRange = cli("replay", "--bootstrap-servers", bs, "--run-dir", runDir.toString(), "--steps", "4..3");
        assertEquals(2, badRange.code());

        RecordedRun.Outcome noLog = cli("replay", "--run-dir", runDir.toString(), "--steps", "3");
        assertEquals(2, noLog.code(), "the run used a cluster: its directory has no Kafka log");
        assertTrue(noLog.err().contains("has no Kafka log"), noLog.err());

        ReplayException e = assertThrows(ReplayException.class, () -> StepReplayer.replay(runDir, kafka,
                options(3, 9, 1, g -> g, ReplayReport.Tolerance.EXACT)));
        assertTrue(e.getMessage().contains("it has steps 1..4"), e.getMessage());
    }

    private static RecordedRun.Outcome cli(String... args) {
        return RecordedRun.cli(args);
    }
}
