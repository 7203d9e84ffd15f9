package org.rollstream.launcher.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How a chaos run is set up. {@link #small(Path, String)} is the CI size; every setting has a
 * {@code with} method, so callers never build it by position.
 *
 * @param workDir       where the broker's log, the learner's run directory and every process's output go
 * @param classpath     class path of the {@code rollstream} command for the child JVMs
 * @param seed          seeds the kill schedule (which role, which actor, when within a step)
 * @param killsPerRole  kill -9s of the learner, of the scorer and of the actors (each)
 * @param brokerRestart kill -9 the broker once and restart it on the same log directory and port
 * @param grpoSteps     GRPO steps of the learner; 0 = enough for the schedule
 * @param deadline      the whole run, start to accounting
 * @param resumeTimeout how long a killed role may take to be productive again before it counts as not resumed
 */
public record ChaosSettings(Path workDir, String classpath, long seed, int killsPerRole, boolean brokerRestart,
                            int grpoSteps, Duration deadline, Duration resumeTimeout) {
    public ChaosSettings {
        if (killsPerRole < 0) {
            throw new IllegalArgumentException("kills per role must be >= 0, got " + killsPerRole);
        }
        if (grpoSteps < 0) {
            throw new IllegalArgumentException("GRPO steps must be >= 0, got " + grpoSteps);
        }
    }

    /** One kill per role, one broker restart: the size for CI on two cores. */
    public static ChaosSettings small(Path workDir, String classpath) {
        return new ChaosSettings(workDir, classpath, 7, 1, true, 0, Duration.ofMinutes(8), Duration.ofMinutes(2));
    }

    public ChaosSettings withSeed(long s) {
        return new ChaosSettings(workDir, classpath, s, killsPerRole, brokerRestart, grpoSteps, deadline, resumeTimeout);
    }

    public ChaosSettings withKillsPerRole(int n) {
        return new ChaosSettings(workDir, classpath, seed, n, brokerRestart, grpoSteps, deadline, resumeTimeout);
    }

    public ChaosSettings withBrokerRestart(boolean b) {
        return new ChaosSettings(workDir, classpath, seed, killsPerRole, b, grpoSteps, deadline, resumeTimeout);
    }

    public ChaosSettings withGrpoSteps(int n) {
        return new ChaosSettings(workDir, classpath, seed, killsPerRole, brokerRestart, n, deadline, resumeTimeout);
    }

    public ChaosSettings withDeadline(Duration d) {
        return new ChaosSettings(workDir, classpath, seed, killsPerRole, brokerRestart, grpoSteps, d, resumeTimeout);
    }

    public ChaosSettings withResumeTimeout(Duration d) {
        return new ChaosSettings(workDir, classpath, seed, killsPerRole, brokerRestart, grpoSteps, deadline, d);
    }

    /** Kills planned in all: learner, scorer and actors {@code killsPerRole} times each, plus the broker. */
    public int plannedKills() {
        return 3 * killsPerRole + (brokerRestart ? 1 : 0);
    }

    /**
     * GRPO steps to run: the given number, or enough that every kill lands while the learner still
     * trains (a learner kill can cost up to a checkpoint interval of retraining) and the role killed
     * last still finds work when it is back: the learner trains on with the roles left alive, and at
     * 4 steps a kill a restarted actor once came back to a learner that had just finished.
     */
    public int effectiveGrpoSteps() {
        return grpoSteps > 0 ? grpoSteps : 16 + 6 * plannedKills();
    }

    /** Steps between learner checkpoints: short, so a killed learner retrains little. */
    int checkpointEvery() {
        return 2;
    }

    /**
     * The learner's flags besides the cluster and run directory: the smallest settings that still
     * train (a short cold start so rewards vary within groups, small groups and batches, no held-out
     * evaluation to speak of). One place to change when the learner's flags change.
     */
    List<String> learnerFlags() {
        return new ArrayList<>(List.of(
                "--preset", "tiny",
                "--seed", Long.toString(seed),
                "--sft-steps", "60",
                "--sft-batch", "16",
                "--steps", Integer.toString(effectiveGrpoSteps()),
                "-B", "4",
                "--checkpoint-every", Integer.toString(checkpointEvery()),
                "--eval-every", "100000",
                "--eval-size", "8",
                "--max-new-tokens", Integer.toString(maxNewTokens())));
    }

    /** Actor flags besides the cluster and id. */
    List<String> actorFlags() {
        return List.of("-G", "4", "--prompts-per-batch", "2", "--max-new-tokens", Integer.toString(maxNewTokens()));
    }

    List<String> scorerFlags() {
        return List.of("--max-new-tokens", Integer.toString(maxNewTokens()));
    }

    /**
     * Client settings for the consumer-group members (actors, scorer): a member killed with -9 never
     * says goodbye, so the group waits out its session before handing its partitions to the others
     * (45 s by default); 6 s is the broker's minimum.
     */
    List<String> groupMemberClientFlags() {
        return List.of("-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=2000");
    }

    int maxNewTokens() {
        return 24;
    }
}
