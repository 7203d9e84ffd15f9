package org.rollstream.launcher;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.rollstream.actor.ActorConfig;
import org.rollstream.actor.ActorService;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.LearnerService;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.reward.service.ScorerConfig;
import org.rollstream.reward.service.ScorerService;
import org.rollstream.schemas.Topics;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.TopicAdmin;

/**
 * All roles in one process against one cluster: N actors, one scorer, the learner. The roles talk
 * only through Kafka, exactly as they would as separate processes.
 */
public final class LocalRun {
    /** What the run measured besides the learner's summary. */
    public record Result(LearnerService.Summary learner, long groupsSampled, long tokensGenerated,
                         double samplingSeconds, long groupsScored, long deadLettered) {
    }

    private LocalRun() {
    }

    /**
     * Runs to completion. {@code progress} receives a status line every {@code every} (null: quiet);
     * {@code inPlace} rewrites one terminal line instead of printing a new one each time.
     */
    public static Result run(KafkaSettings kafka, LearnerConfig learnerConfig, ActorConfig actorTemplate, int actors,
                             ScorerConfig scorerConfig, int partitions, PrintStream progress, Duration every,
                             boolean inPlace) {
        return run(kafka, learnerConfig, actorTemplate, actors, scorerConfig, partitions, progress, every, inPlace, null);
    }

    /**
     * As above; {@code started} (may be null) receives the learner once it exists, e.g. to stop it on Ctrl-C:
     * the learner then checkpoints, the actors and the scorer drain and close, and the result is returned.
     */
    public static Result run(KafkaSettings kafka, LearnerConfig learnerConfig, ActorConfig actorTemplate, int actors,
                             ScorerConfig scorerConfig, int partitions, PrintStream progress, Duration every,
                             boolean inPlace, java.util.function.Consumer<LearnerService> started) {
        if (actors < 1) {
            throw new IllegalArgumentException("--actors must be at least 1, got " + actors);
        }
        kafka.verifyReachable(Duration.ofSeconds(15));
        try (TopicAdmin admin = new TopicAdmin(kafka)) {
            admin.ensureTopics(Topics.all(partitions));
        }
        CharTokenizer tokenizer = CharTokenizer.builtin();
        List<ActorService> actorServices = new ArrayList<>();
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "progress");
            t.setDaemon(true);
            return t;
        });
        // one consumer group per policy unless the caller chose one: a member left behind by an earlier
        // run of another policy can then never hold partitions this run needs
        String policy = learnerConfig.policyName();
        ScorerConfig scorerForRun = scorerConfig.withConsumerGroup(
                perPolicy(scorerConfig.consumerGroup(), ScorerConfig.DEFAULT_GROUP, policy));
        ActorConfig actorBase = actorTemplate.withPolicyName(policy)
                .withConsumerGroup(perPolicy(actorTemplate.consumerGroup(), ActorConfig.DEFAULT_GROUP, policy));
        try (ScorerService scorer = ScorerService.start(kafka, scorerForRun);
             LearnerService learner = new LearnerService(kafka, learnerConfig, tokenizer, TaskRegistry.defaults(), null)) {
            if (started != null) {
                started.accept(learner);
            }
            for (int i = 0; i < actors; i++) {
                ActorConfig c = actorBase.withActorId(actorTemplate.actorId() + "-" + i).withSeed(actorTemplate.seed() + i);
                actorServices.add(ActorService.start(kafka, c, tokenizer));
            }
            if (progress != null) {
                ticker.scheduleAtFixedRate(() -> printProgress(progress, learner.progress(), actorServices, inPlace),
                        every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
            }
            LearnerService.Summary summary = learner.run();
            ticker.shutdownNow();
            if (progress != null) {
                printProgress(progress, learner.progress(), actorServices, inPlace);
                if (inPlace) {
                    progress.println();
                }
            }
            long sampled = 0;
            long tokens = 0;
            double sampling = 0;
            for (ActorService a : actorServices) {
                sampled += a.stats().groupsPublished();
                tokens += a.stats().tokensGenerated();
                sampling += a.stats().samplingSeconds();
            }
            return new Result(summary, sampled, tokens, sampling, scorer.stats().scored(),
                    scorer.stats().deadLettered());
        } finally {
            ticker.shutdownNow();
            for (ActorService a : actorServices) {
                a.close();
            }
        }
    }

    private static String perPolicy(String group, String defaultGroup, String policy) {
        return group.equals(defaultGroup) ? defaultGroup + "-" + policy : group;
    }

    static void printProgress(PrintStream out, LearnerService.Progress p, List<ActorService> actors, boolean inPlace) {
        double actorTps = 0;
        for (ActorService a : actors) {
            actorTps += a.stats().tokensPerSecond();
        }
        if (p.coldStart()) {
            String line = String.format(Locale.ROOT, "cold-start SFT  step %4d/%-4d  loss %s", p.step(), p.totalSteps(),
                    fmt(p.sftLoss()));
            out.print(inPlace ? "\r" + line : line + System.lineSeparator());
            out.flush();
            return;
        }
        String line = String.format(Locale.ROOT,
                "%-22s step %3d/%-3d v%-3d reward %s  held-out acc %s  KL %s  staleness %.2f  train %5.0f tok/s  sample %5.0f tok/s  dropped %d",
                p.phase(), p.step(), p.totalSteps(), p.version(), fmt(p.meanReward()), pct(p.heldOutAccuracy()),
                fmt(p.kl()), p.meanStaleness(), p.tokensPerSecond(), actorTps, p.dropped());
        if (inPlace) {
            out.print("\r" + line);
        } else {
            out.println(line);
        }
        out.flush();
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "  -  " : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "  -  " : String.format(Locale.ROOT, "%5.1f%%", 100 * v);
    }
}
