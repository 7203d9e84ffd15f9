package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.actor.ActorConfig;
import org.rollstream.launcher.LocalRun;
import org.rollstream.launcher.chaos.LogAccounting;
import org.rollstream.launcher.chaos.LogReader;
import org.rollstream.learner.ColdStart;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.LearnerService;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.reward.service.ScorerConfig;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.StepAudit;
import org.rollstream.transport.KafkaSettings;

/**
 * A learner that crashes between checkpoints resumes from the last one without losing or repeating
 * anything. The crash is made real on disk: the run is stopped mid-way, then its newest checkpoint is
 * deleted, so the resume goes back to an older checkpoint while the log already holds the later steps,
 * their versions and their prompts, exactly as after a kill -9. Everything is then judged from the log.
 */
@ExtendWith(KafkaBrokerExtension.class)
class CheckpointResumeTest {
    private static final int B = 4;
    private static final int STEPS = 8;

    @TempDir
    Path dir;

    private LearnerConfig config() {
        // dynamic sampling off: an untrained model scores 0 everywhere, and every group must still count
        GrpoConfig grpo = GrpoConfig.builder().groupsPerStep(B).maxStaleness(1).klBeta(0.02).dynamicSampling(false)
                .learningRate(1e-4).build();
        return new LearnerConfig(dir.resolve("run"), "resume", "policy-resume", ModelSpec.preset("tiny"), "arithmetic", 3,
                ColdStart.none(), grpo, STEPS, 100, 20, 4, 16, 60_000, null, null);
    }

    private LocalRun.Result run(KafkaSettings kafka, long stopAtStep) {
        ActorConfig actor = ActorConfig.defaults("resume-actor").withPolicyName("policy-resume")
                .withSampling(4, 1.0f, 1.0f, 16).withPromptsPerBatch(4).withSeed(5);
        AtomicBoolean asked = new AtomicBoolean();
        return LocalRun.run(kafka, config(), actor, 1, ScorerConfig.defaults("resume-scorer").withMaxNewTokens(16),
                4, null, null, false, learner -> {
                    if (stopAtStep > 0) {
                        Thread t = new Thread(() -> {
                            while (!asked.get()) {
                                if (learner.progress().step() >= stopAtStep) {
                                    learner.stop();
                                    asked.set(true);
                                }
                                try {
                                    Thread.sleep(20);
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        }, "stop-at-step");
                        t.setDaemon(true);
                        t.start();
                    }
                });
    }

    private List<Path> checkpoints() throws Exception {
        try (Stream<Path> s = Files.list(dir.resolve("run/checkpoints"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("step-"))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
    }

    @Test
    void resumesAfterACrashBetweenCheckpointsWithNothingLostOrTrainedTwice(KafkaSettings kafka) throws Exception {
        LocalRun.Result first = run(kafka, 5);
        LearnerService.Summary s1 = first.learner();
        assertFalse(s1.complete(), "stopped before the last step");
        assertTrue(s1.steps() >= 5 && s1.steps() < STEPS, "stopped at step " + s1.steps());
        // the stop wrote a checkpoint at its step (checkpoints every 4 steps, the stop at 5 to 7); delete it:
        // the resume must go back to step 4 while the log already holds the later steps
        List<Path> before = checkpoints();
        Path stopCheckpoint = before.get(before.size() - 1);
        assertTrue(stopCheckpoint.getFileName().toString().startsWith(String.format("step-%08d", s1.steps())));
        try (Stream<Path> w = Files.walk(stopCheckpoint)) {
            w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertEquals(1, checkpoints().size(), "the step-4 checkpoint is left");
        long resumeStep = Long.parseLong(checkpoints().get(checkpoints().size() - 1).getFileName().toString()
                .substring(5, 13));
        assertTrue(resumeStep < s1.steps(), "resumes before the steps already in the log");

        LocalRun.Result second = run(kafka, 0);
        LearnerService.Summary s2 = second.learner();
        assertTrue(s2.complete());
        assertEquals(STEPS, s2.steps());
        assertEquals(1, s2.incarnation());
        assertEquals(1, s2.restarts());
        assertEquals((long) STEPS * B, s2.groupsTrained(), "the summary counts the whole run");
        assertEquals(s1.runId(), s2.runId());

        LogReader log = new LogReader(kafka);
        Duration t = Duration.ofSeconds(30);
        List<Prompt> prompts = log.readAll(Topics.PROMPTS, Prompt.class, t).records();
        List<StepAudit> audits = log.readAll(Topics.LEARNER_AUDIT, StepAudit.class, t).records();
        List<PolicyVersion> versions = log.readAll(Topics.POLICY_VERSIONS, PolicyVersion.class, t).records();
        LogAccounting.Result r = LogAccounting.account(s2.runId(), prompts, audits, versions);
        assertTrue(r.ok(), "the log accounts for every prompt: " + r.violations());
        assertTrue(r.supersededRecords() > 0, "the crashed incarnation's later steps are in the log and superseded");
        assertEquals(2, r.incarnations());
        assertEquals((long) STEPS * B, r.trained().size());

        // versions never repeat and a published file never changes: each announcement matches its file
        List<PolicyVersion> mine = versions.stream().filter(v -> v.getRunId().equals(s2.runId())).toList();
        for (int i = 1; i < mine.size(); i++) {
            assertTrue(mine.get(i).getVersion() > mine.get(i - 1).getVersion(), "versions strictly increase");
        }
        long checked = 0;
        for (PolicyVersion v : mine) {
            Path f = Path.of(v.getWeightsLocation());
            if (Files.exists(f)) {
                assertEquals(v.getSha256(), WeightSnapshot.open(f).sha256(), "file of v" + v.getVersion() + " unchanged");
                checked++;
            }
        }
        assertTrue(checked >= 2, "some published files are still on disk to compare");
    }
}
