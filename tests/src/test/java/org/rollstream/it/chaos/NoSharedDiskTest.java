package org.rollstream.it.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rollstream.launcher.chaos.NoSharedDiskRun;
import org.rollstream.schemas.records.PolicyVersion;

/**
 * Learner, scorer and actors as separate processes in separate working directories: weights reach
 * the actors only over Kafka, announcements are signed, an actor started late serves the latest
 * version at once, and an actor with the wrong key serves nothing.
 */
class NoSharedDiskTest {
    private static Path workDir() {
        return Path.of(System.getProperty("rollstream.nsd.dir",
                "target/no-shared-disk-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))).toAbsolutePath();
    }

    private static String classpath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    @Test
    void trainingRunsWithWeightsOverKafkaAndALateActorServesTheLatestVersion() throws InterruptedException {
        NoSharedDiskRun.Settings settings = NoSharedDiskRun.Settings.small(workDir(), classpath());
        NoSharedDiskRun.Result r = new NoSharedDiskRun(settings, System.out).run();
        String report = r.toString();
        System.out.println(report);

        assertEquals(List.of(), r.problems(), report);
        // training proceeded: every GRPO step done, a version announced after each
        assertEquals(settings.grpoSteps(), r.learnerSteps(), report);
        assertTrue(r.finalVersion() >= settings.grpoSteps(), report);
        // weights went over Kafka, every announcement signed
        for (PolicyVersion v : r.announcements()) {
            assertTrue(v.getWeightsLocation().startsWith("kafka:policy.weights/"), v.toString());
            assertTrue(v.getSignature().startsWith("hmac-sha256:"), v.toString());
        }
        // no shared path: weight files exist only in the learner's own directory
        r.weightFiles().forEach((role, files) -> {
            if (!role.equals("learner")) {
                assertEquals(List.of(), files, role + " has weight files");
            }
        });
        assertFalse(r.weightFiles().get("learner").isEmpty(), "the learner keeps its own copies");
        // the two actors followed the run to its final version, refusing nothing
        for (String a : List.of("actor-1", "actor-2")) {
            assertEquals(r.finalVersion(), r.lastServed().get(a), a + "\n" + report);
            assertEquals(0, r.refusals().get(a), a + "\n" + report);
        }
        // the late actor began with the latest version there was when it joined, not an old one
        assertTrue(r.latestAtLateStart() >= settings.lateAfter(), report);
        assertTrue(r.firstServed().get("actor-3") >= r.latestAtLateStart(), report);
        assertEquals(r.finalVersion(), r.lastServed().get("actor-3"), report);
        // the actor with another key refused every version it was offered and served none
        assertEquals(-1L, r.firstServed().get("actor-wrong-key"), report);
        assertTrue(r.refusals().get("actor-wrong-key") >= 1, report);
    }
}
