package org.rollstream.reward.service;

import java.time.Duration;

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
import org.rollstream.transport.errors.RetriableRecordException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The scorer role: {@code rollouts.sampled} in, {@code rollouts.scored} out. Each group is scored
 * on its own (groups are independent, so order does not matter), published keyed by prompt id,
 * and only then acked, so a crash re-scores rather than loses a group. A group that cannot be
 * scored goes to {@code rollouts.sampled.dlq} with the reason: never a silent zero.
 */
public final class ScorerService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ScorerService.class);
    private static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    private static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);
    /** Groups scored at once; scoring is cheap CPU work, publishing is the slow part. */
    private static final int CONCURRENCY = 16;
    /** How far back a starting scorer reads rewards.partial, so redelivered groups find their components. */
    private static final Duration PARTIALS_LOOKBACK = Duration.ofMinutes(10);

    private final ScorerConfig config;
    private final SampledGroupScorer scorer;
    private final ReactiveProducer producer;
    private final DeadLetterPublisher deadLetters;
    private final ReactiveConsumer<SampledGroup> consumer;
    private final ScorerStats stats = new ScorerStats();
    private volatile Disposable subscription;
    // external rewards (issue 10): components joined from rewards.partial; null when none is configured
    private final PartialRewardFeed partials;

    private ScorerService(KafkaSettings settings, ScorerConfig config) {
        this.config = config;
        ComponentJoin join = ComponentJoin.defaults();
        this.scorer = new SampledGroupScorer(config, TaskRegistry.defaults(), join);
        this.producer = ReactiveProducer.create(settings, config.instanceId());
        this.deadLetters = new DeadLetterPublisher(settings, producer, config.instanceId());
        this.consumer = ReactiveConsumer.builder(settings, config.consumerGroup(), SAMPLED::decode)
                .topics(Topics.ROLLOUTS_SAMPLED).deadLetters(deadLetters).clientId(config.instanceId())
                .maxBuffered(2 * CONCURRENCY).build();
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
                .subscribe(v -> { }, e -> log.error("scorer {} stopped consuming: {}", config.instanceId(), e.toString()));
        log.info("scorer {} started: {}", config.instanceId(), s.scorer.identity().getConfig());
        return s;
    }

    private Mono<Void> process(Received<SampledGroup> r) {
        stats.received.incrementAndGet();
        return Mono.fromCallable(() -> scorer.score(r.value()))
                .subscribeOn(Schedulers.boundedElastic()) // external rewards block on I/O
                .flatMap(scored -> publish(r, scored))
                .onErrorResume(e -> e instanceof RetriableRecordException ? retryLater(r, e)
                        : isScoringFailure(e) ? deadLetter(r, e) : publishFailed(r, e));
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

    private static boolean isScoringFailure(Throwable e) {
        return e instanceof MalformedGroupException || e instanceof RewardException || e instanceof IllegalArgumentException;
    }

    private Mono<Void> deadLetter(Received<SampledGroup> r, Throwable e) {
        log.warn("dead-lettering {} (key {}): {}", r, r.key(), e.getMessage());
        return r.fail(e).doOnSuccess(v -> stats.deadLettered.incrementAndGet())
                .onErrorResume(err -> {
                    log.error("could not dead-letter {}; it stays unacked: {}", r, err.toString());
                    return Mono.empty();
                });
    }

    /** The broker refused the scored group even after the producer's retries: leave it unacked for redelivery. */
    private Mono<Void> publishFailed(Received<SampledGroup> r, Throwable e) {
        stats.publishFailures.incrementAndGet();
        log.error("could not publish the scored group of {} (key {}); it stays unacked: {}", r, r.key(), e.toString());
        return Mono.empty();
    }

    public ScorerStats stats() {
        return stats;
    }

    public ScorerConfig config() {
        return config;
    }

    /** Stops consuming after the groups in hand are published (or dead-lettered) and committed. */
    @Override
    public void close() {
        consumer.close();
        Disposable s = subscription;
        if (s != null) {
            s.dispose();
        }
        if (partials != null) {
            partials.close();
        }
        scorer.close();
        producer.flush();
        producer.close();
        log.info("scorer {} closed: {}", config.instanceId(), stats);
    }
}
