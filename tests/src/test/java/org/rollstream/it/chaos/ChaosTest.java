package org.rollstream.it.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rollstream.launcher.chaos.ChaosResult;
import org.rollstream.launcher.chaos.ChaosRun;
import org.rollstream.launcher.chaos.ChaosSettings;

/**
 * Broker, learner, scorer and two actors as separate processes; kill -9 of the learner, the scorer
 * and an actor at seeded random points and one broker restart on the same log directory and port;
 * then every prompt the run issued is accounted for from the log. The N = 20 version is
 * {@code rollstream bench chaos --kills 20}.
 */
class ChaosTest {
    /** Kept after the run (process logs, broker log, run directory) so a failure can be read; mvn clean removes it. */
    private static Path workDir() {
        return Path.of(System.getProperty("rollstream.chaos.dir",
                "target/chaos-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))).toAbsolutePath();
    }

    /**
     * The child JVMs get this JVM's class path, which holds every module: it works whether or not the
     * launcher's jar was packaged yet. Surefire may hide the real path behind a manifest-only jar.
     */
    private static String classpath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    @Test
    void everyPromptIsAccountedForAfterKillsOfEveryRole() throws InterruptedException {
        ChaosSettings settings = ChaosSettings.small(workDir(), classpath()).withSeed(Long.getLong("rollstream.chaos.seed", 7));
        ChaosResult result = new ChaosRun(settings, System.out).run();
        System.out.print(result.table());

        // process control: every kill was done and followed by a resume, nothing died on its own
        assertEquals(settings.plannedKills(), result.killsDone(), result.table());
        result.roles().forEach((role, f) -> assertEquals(f.kills(), f.resumed(), role + " resumed after each kill\n" + result.table()));
        assertEquals(List.of(), result.unexpectedExits(), "roles that died without being killed");
        assertTrue(result.learnerFinished(), "the learner finished all its steps\n" + result.table());
        // the log's account: 0 lost, 0 trained twice, versions strictly increasing, every version published
        assertNotNull(result.accounting(), result.table());
        assertTrue(result.accounting().issued() > 0, "the run issued prompts");
        assertEquals(List.of(), result.accounting().violations(), result.table());
        assertEquals(List.of(), result.problems(), result.table());
    }
}
