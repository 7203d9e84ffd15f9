package org.rollstream.launcher.chaos;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.StepAudit;
import org.rollstream.transport.KafkaSettings;

/**
 * The chaos experiment: on a {@link ChaosCluster} of separate processes, kills the learner, the
 * scorer and the actors with {@code kill -9} at seeded random points while the learner trains,
 * restarts each at once (the broker on the same log directory and port), measures how long each
 * takes to be productive again, and finally accounts for every prompt of the run from the log
 * ({@link LogAccounting}).
 *
 * <p>One kill at a time: the next comes only after the last killed role worked again and the
 * learner trained another step, then after a random pause of up to {@value #MAX_JITTER_MS} ms, so
 * kills land anywhere inside a step. Chaos begins once the learner wrote its first checkpoint (a
 * learner killed before it would redo its cold start). Every child is stopped when {@link #run()}
 * returns or throws.
 */
public final class ChaosRun {
    static final long MAX_JITTER_MS = 4_000;
    private static final List<String> ROLES = List.of("learner", "scorer", "actor", "broker");

    private final ChaosSettings settings;
    private final PrintStream progress;
    private final Random random;
    private final Path runDir;
    private final Map<String, List<Long>> resumes = new LinkedHashMap<>();
    private final Map<String, List<Long>> secondary = new LinkedHashMap<>();
    private final Map<String, Integer> kills = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private long deadlineMs;
    private ChaosCluster cluster;
    private LogWatcher watcher;

    /** @param progress where progress lines go (one per kill), e.g. System.out */
    public ChaosRun(ChaosSettings settings, PrintStream progress) {
        this.settings = settings;
        this.progress = progress;
        this.random = new Random(settings.seed());
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        this.runDir = settings.workDir().resolve("chaos-s" + settings.seed() + "-" + stamp);
        ROLES.forEach(r -> {
            resumes.put(r, new ArrayList<>());
            secondary.put(r, new ArrayList<>());
            kills.put(r, 0);
        });
    }

    /** The learner's run directory (its basename is today's run id). */
    public Path runDir() {
        return runDir;
    }

    /**
     * Runs the whole experiment and returns its figures; never leaves a child process behind.
     *
     * @throws IllegalStateException if the broker cannot be brought up at all
     */
    public ChaosResult run() throws InterruptedException {
        long t0 = System.currentTimeMillis();
        deadlineMs = t0 + settings.deadline().toMillis();
        cluster = new ChaosCluster(settings, runDir, this::say);
        try (ChaosCluster c = cluster) {
            c.start();
            KafkaSettings kafka = KafkaSettings.of(c.bootstrapServers());
            watcher = new LogWatcher(kafka);
            int warmup = settings.checkpointEvery() + 1;
            say("waiting for the learner's first " + warmup + " GRPO steps (cold start first)");
            OptionalLong first = OptionalLong.of(0);
            for (int i = 0; i < warmup && first.isPresent(); i++) {
                first = awaitLearnerStepAfter(first.getAsLong(), Duration.ofMillis(Math.max(0, deadlineMs - System.currentTimeMillis())));
            }
            if (first.isEmpty()) {
                notes.add("the learner never trained " + warmup + " GRPO steps; see " + c.process("learner").logFile());
            } else {
                say("learner trains; chaos begins (" + settings.plannedKills() + " kills, seed " + settings.seed() + ")");
                chaos(first.getAsLong());
                awaitLearnerEnd();
            }
            c.stopRoles();
            return account(kafka, (System.currentTimeMillis() - t0) / 1000.0);
        } finally {
            if (watcher != null) {
                watcher.close();
            }
        }
    }

    private void chaos(long firstStepMs) throws InterruptedException {
        List<String> plan = new ArrayList<>();
        for (int i = 0; i < settings.killsPerRole(); i++) {
            plan.addAll(List.of("learner", "scorer", "actor"));
        }
        if (settings.brokerRestart()) {
            plan.add("broker");
        }
        Collections.shuffle(plan, random);
        long settledMs = firstStepMs;
        for (int i = 0; i < plan.size(); i++) {
            // the system is productive again: the learner trained a step after the last resume
            OptionalLong step = awaitLearnerStepAfter(settledMs, settings.resumeTimeout());
            if (step.isPresent()) {
                Thread.sleep((long) (random.nextDouble() * MAX_JITTER_MS));
                cluster.reviveDead();
            }
            if (step.isEmpty() || cluster.learnerFinished()) {
                notes.add(cluster.learnerFinished()
                        ? "the learner finished its steps before kill " + (i + 1) + " of " + plan.size() + "; give it more steps"
                        : "the learner made no progress before kill " + (i + 1) + " of " + plan.size());
                return;
            }
            String role = plan.get(i);
            String target = "actor".equals(role) ? (random.nextBoolean() ? "actor-1" : "actor-2") : role;
            settledMs = killAndResume(role, target, i + 1, plan.size());
        }
    }

    /** Kills {@code target} with -9, restarts it and waits until it works again; returns when the system settled. */
    private long killAndResume(String role, String target, int n, int of) throws InterruptedException {
        RoleProcess p = cluster.process(target);
        long pidBefore = p.pid();
        p.kill();
        long killedAt = System.currentTimeMillis();
        kills.merge(role, 1, Integer::sum);
        p.start();
        Duration timeout = settings.resumeTimeout();
        OptionalLong back;
        switch (role) {
            case "broker" -> {
                back = p.awaitLine(ChaosCluster.BROKER_READY, timeout).isPresent()
                        ? OptionalLong.of(System.currentTimeMillis()) : OptionalLong.empty();
                if (back.isPresent()) {
                    awaitLearnerStepAfter(back.getAsLong(), timeout).ifPresent(t -> secondary.get(role).add(t - killedAt));
                }
            }
            case "learner" -> back = awaitLearnerStepAfter(killedAt, timeout);
            case "scorer" -> back = watcher.awaitWorkAfter(LogWatcher.SCORER, killedAt, timeout);
            default -> back = watcher.awaitWorkAfter(
                    LogWatcher.actor(ChaosCluster.actorIdPrefix(target) + "-" + p.pid()), killedAt, timeout);
        }
        if (back.isPresent()) {
            long ms = back.getAsLong() - killedAt;
            resumes.get(role).add(ms);
            say(String.format("kill %d/%d: %s (pid %d) -9, productive again after %.1f s", n, of, target, pidBefore, ms / 1000.0));
            return back.getAsLong();
        }
        say(String.format("kill %d/%d: %s (pid %d) -9, NOT productive again within %d s", n, of, target, pidBefore,
                timeout.toSeconds()));
        return System.currentTimeMillis();
    }

    /**
     * The time of the learner's first step stamped after {@code afterMs}, restarting any process that
     * died on its own meanwhile; empty on timeout, at the deadline or once the learner finished.
     */
    private OptionalLong awaitLearnerStepAfter(long afterMs, Duration timeout) throws InterruptedException {
        long until = Math.min(deadlineMs, System.currentTimeMillis() + timeout.toMillis());
        while (System.currentTimeMillis() < until) {
            OptionalLong t = watcher.awaitWorkAfter(LogWatcher.LEARNER, afterMs, Duration.ofSeconds(1));
            if (t.isPresent()) {
                return t;
            }
            cluster.reviveDead();
            if (cluster.learnerFinished()) {
                return OptionalLong.empty();
            }
        }
        if (System.currentTimeMillis() >= deadlineMs) {
            addNoteOnce("the deadline of " + settings.deadline().toSeconds() + " s passed");
        }
        return OptionalLong.empty();
    }

    private void awaitLearnerEnd() throws InterruptedException {
        say("chaos done; waiting for the learner to finish its steps");
        RoleProcess learner = cluster.process("learner");
        while (!cluster.learnerFinished() && System.currentTimeMillis() < deadlineMs) {
            learner.awaitExit(Duration.ofSeconds(1));
            cluster.reviveDead();
        }
        if (!cluster.learnerFinished()) {
            addNoteOnce("the deadline of " + settings.deadline().toSeconds() + " s passed");
        }
    }

    private ChaosResult account(KafkaSettings kafka, double seconds) {
        Map<String, ChaosResult.RoleFigures> figures = new LinkedHashMap<>();
        for (String r : ROLES) {
            figures.put(r, new ChaosResult.RoleFigures(kills.get(r), resumes.get(r).size(), List.copyOf(resumes.get(r)),
                    List.copyOf(secondary.get(r))));
        }
        String runId = runDir.getFileName().toString();
        LogAccounting.Result accounting = null;
        try {
            LogReader reader = new LogReader(kafka);
            Duration t = Duration.ofSeconds(60);
            List<Prompt> prompts = reader.readAll(Topics.PROMPTS, Prompt.class, t).records();
            List<StepAudit> audits = reader.readAll(Topics.LEARNER_AUDIT, StepAudit.class, t).records();
            List<PolicyVersion> versions = reader.readAll(Topics.POLICY_VERSIONS, PolicyVersion.class, t).records();
            runId = discoverRunId(runId, prompts, audits, versions);
            accounting = LogAccounting.account(runId, prompts, audits, versions);
        } catch (RuntimeException e) {
            notes.add("reading the log failed: " + e);
        }
        return new ChaosResult(runId, settings.plannedKills(), figures, cluster.unexpectedExits(), cluster.learnerFinished(),
                List.copyOf(notes), accounting, seconds);
    }

    /**
     * The run's id as the log names it. The cluster is this experiment's own, so every record belongs
     * to one run; if the records name exactly one, that is it, else the run directory's name.
     */
    private String discoverRunId(String fallback, List<Prompt> prompts, List<StepAudit> audits, List<PolicyVersion> versions) {
        Set<String> ids = new LinkedHashSet<>();
        audits.forEach(a -> ids.add(a.getRunId()));
        versions.forEach(v -> ids.add(v.getRunId()));
        prompts.forEach(p -> ids.add(p.getRunId()));
        ids.remove("");
        if (ids.size() == 1) {
            return ids.iterator().next();
        }
        if (ids.size() > 1) {
            notes.add("the log names several run ids " + ids + " on a cluster of one run; accounting for " + fallback);
        }
        return fallback;
    }

    private void addNoteOnce(String note) {
        if (!notes.contains(note)) {
            notes.add(note);
        }
    }

    private void say(String line) {
        progress.println("[chaos] " + line);
        progress.flush();
    }
}
