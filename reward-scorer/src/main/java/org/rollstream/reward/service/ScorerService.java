package org.rollstream.reward.service;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import org.rollstream.reward.RewardException;
import org.rollstream.reward.topic.ComponentJoin;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.DeadLetterPublisher;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveConsumer;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.Received;
import org.rollstream.transport.errors.BadRecordException;
import org.rollstream.transport.errors.RetriableRecordException;
import org.rollstream.transport.time.Time;
import org.rollstream.transport.time.Bounded;
import org.rollstream.transport.time.StopLatch;
import org.rollstream.transport.time.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The scorer role: {@code rollouts.sampled} in, {@code rollouts.scored} out.
 *
 * <ul>
 *   <li>Each group is checked ({@link GroupCheck}), scored on its own (groups are independent, so
 *       order does not matter), published keyed by prompt id, and only then acked, so a crash
 *       re-scores rather than loses a group.</li>
 *   <li>A group that is invalid, or that a reward function cannot score, goes to
 *       {@code rollouts.sampled.dlq} with the reason and is counted: never a silent zero, and input
 *       never stops the scorer. Undecodable records are dead-lettered by the consumer and counted too.</li>
 *   <li>Anything else (a bug, or the broker refusing the scored group after the producer's own
 *       retries) is fatal: the record stays unacked, {@link #failure()} reports it, and the owner
 *       stops the scorer (the command exits 1); a restart redelivers the record.</li>
 *   <li>{@link #stop(Duration)} drains: groups in hand are published and acked, offsets committed,
 *       the group left and the producer closed, within the given time.</li>
 * </ul>
 */
public final class ScorerService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ScorerService.class);
    private static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    private static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);
    /** Groups scored at once; scoring is cheap CPU work, publishing is the slow part. */
    private static final int CONCURRENCY = 16;
    /** How long the consumer waits at close for the groups in hand to be published. */
    private static final Duration CONSUMER_DRAIN = Duration.ofSeconds(10);
    /** The default bound of {@link #close()}. */
    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(30);
    /** How far back a starting scorer reads rewards.partial, so redelivered groups find their components. */
    private static final Duration PARTIALS_LOOKBACK = Duration.ofMinutes(10);

    private final ScorerConfig config;
    private final SampledGroupScorer scorer;
    private final ReactiveProducer producer;
    private final DeadLetterPublisher deadLetters;
    private final ReactiveConsumer<SampledGroup> consumer;
    private final Scheduler scoring;
    private final ScorerStats stats = new ScorerStats();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Disposable subscription;
    private final StopLatch stopLatch = new StopLatch();
    // external rewards: components joined from rewards.partial; null when none is configured
    private final PartialRewardFeed partials;

    private ScorerService(KafkaSettings settings, ScorerConfig config) {
        this.config = config;
        ComponentJoin join = ComponentJoin.defaults();
        this.scorer = new SampledGroupScorer(config, TaskRegistry.defaults(), join);
        this.producer = ReactiveProducer.create(settings, config.instanceId());
        this.deadLetters = new DeadLetterPublisher(settings, producer, config.instanceId());
        this.consumer = ReactiveConsumer.builder(settings, config.consumerGroup(), SAMPLED::decode)
                .topics(Topics.ROLLOUTS_SAMPLED).deadLetters(deadLetters).clientId(config.instanceId())
                .maxBuffered(2 * CONCURRENCY).closeTimeout(CONSUMER_DRAIN).build();
        this.stats.consumer = consumer.stats();
        // a reward may be slow (external scorers block on I/O): keep it off Reactor's parallel workers
        this.scoring = Schedulers.newBoundedElastic(CONCURRENCY, 4 * CONCURRENCY, "rollstream-scorer-" + config.instanceId(), 60, true);
        this.partials = scorer.awaitsTopic()
                ? PartialRewardFeed.start(settings, config.instanceId(), join, deadLetters, PARTIALS_LOOKBACK) : null;
    }

    /**
     * Starts consuming at once.
     *
     * @throws IllegalArgumentException when the reward configuration names an unknown reward or option
     */
    public static ScorerService start(KafkaSettings settings, ScorerConfig config) {
        ScorerService s = new ScorerService(settings, config);
        s.subscription = s.consumer.receive()
                .flatMap(s::process, CONCURRENCY)
                .subscribe(v -> { }, e -> s.fail("consuming stopped", e));
        log.info("scorer {} started: {}", config.instanceId(), s.scorer.identity().getConfig());
        return s;
    }

    private Mono<Void> process(Received<SampledGroup> r) {
        stats.received.incrementAndGet();
        return Mono.fromCallable(() -> scorer.score(r.value()))
                .subscribeOn(scoring)
                .flatMap(scored -> publish(r, scored))
                .onErrorResume(e -> e instanceof RetriableRecordException ? retryLater(r, e)
                        : e instanceof BadRecordException || e instanceof RewardException
                        ? deadLetter(r, e) : fatal(r, e));
    }

    /** An external reward cannot answer now: the consumer delivers the group again after a backoff, then dead-letters it. */
    private Mono<Void> retryLater(Received<SampledGroup> r, Throwable e) {
        log.warn("{} (key {}, delivery {}) not scored now; delivered again after a backoff, dead-lettered after the last retry: {}",
                r, r.key(), r.delivery(), e.getMessage());
        r.nack(e);
        return Mono.empty();
    }

    private Mono<Void> publish(Received<SampledGroup> r, ScoredGroup scored) {
        String key = scored.getGroup().getPrompt().getId().toString();
        return producer.send(Topics.ROLLOUTS_SCORED, key, SCORED.encode(scored)).doOnSuccess(m -> {
            r.ack();
            stats.scored.incrementAndGet();
            stats.completions.addAndGet(scored.getScores().size());
        }).then();
    }

    private Mono<Void> deadLetter(Received<SampledGroup> r, Throwable e) {
        log.warn("dead-lettering {} (key {}): {}", r, r.key(), e.getMessage());
        return r.fail(e).doOnSuccess(v -> stats.deadLettered.incrementAndGet())
                .onErrorResume(err -> fatal(r, err));
    }

    /** Not the record's fault: leave it unacked for redelivery after a restart and report the failure. */
    private Mono<Void> fatal(Received<SampledGroup> r, Throwable e) {
        stats.publishFailures.incrementAndGet();
        fail("failed on " + r + " (key " + r.key() + "); it stays unacked", e);
        return Mono.empty();
    }

    private void fail(String what, Throwable e) {
        if (failure.compareAndSet(null, e)) {
            log.error("scorer {} {}: {}", config.instanceId(), what, e.toString(), e);
        }
    }

    public ScorerStats stats() {
        return stats;
    }

    public ScorerConfig config() {
        return config;
    }

    /** The first fatal error (a bug, or the broker refusing scored groups), if any: the owner should stop the scorer. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /**
     * Stops gracefully within {@code timeout}: takes no new groups, publishes (or dead-letters) and
     * acks those in hand, commits, leaves the consumer group and closes the producer. Idempotent: a
     * second caller waits (within its own timeout) for the first; safe from a shutdown hook.
     *
     * @return true when everything finished in time; false when a step was cut short (uncommitted
     *         groups are re-scored by the next member, and the learner deduplicates)
     */
    public boolean stop(Duration timeout) {
        if (!stopLatch.claim()) { // another caller is stopping (or has stopped): wait for it, within our own bound
            return stopLatch.await(timeout);
        }
        Timer timer = Time.SYSTEM.timer(timeout);
        String who = "scorer " + config.instanceId();
        boolean clean = Bounded.run(who + " consumer close", consumer::close, timer);
        Disposable s = subscription;
        if (s != null) {
            s.dispose();
        }
        if (partials != null) {
            partials.close();
        }
        scorer.close();
        clean &= Bounded.run(who + " producer close", producer::close, timer);
        scoring.dispose();
        log.info("{} stopped{}: {}", who, clean ? "" : " (cut short after " + timeout.toSeconds() + " s)", stats);
        stopLatch.done(clean);
        return clean;
    }


    /** {@link #stop(Duration)} with {@link #DEFAULT_STOP_TIMEOUT}. */
    @Override
    public void close() {
        stop(DEFAULT_STOP_TIMEOUT);
    }
}
