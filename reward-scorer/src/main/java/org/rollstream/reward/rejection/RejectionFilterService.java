package org.rollstream.reward.rejection;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.DeadLetterPublisher;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveConsumer;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.Received;
import org.rollstream.transport.errors.BadRecordException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The filter role of rejection sampling: {@code rollouts.scored} in, {@code sft.samples} out. Takes
 * the groups of one sampling job (prompt run id = {@code runId}; everything else on the topic is
 * acked and passed by), judges them with a {@link RejectionFilter}, publishes each kept sample keyed by
 * its id and hands it to the sink, and only then acks the group. Groups are judged one at a time, in
 * order, so the filter's per-prompt state needs no locking. A group that cannot be judged goes to
 * {@code rollouts.scored.dlq} with the reason and is counted; undecodable records are dead-lettered by
 * the consumer. Anything else stops the role ({@link #failure()}).
 */
public final class RejectionFilterService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RejectionFilterService.class);
    private static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);
    private static final AvroCodec<SftSample> SAMPLE = AvroCodec.of(SftSample.class);

    private final String runId;
    private final RejectionFilter filter;
    private final Consumer<SftSample> sink;
    private final ReactiveProducer producer;
    private final DeadLetterPublisher deadLetters;
    private final ReactiveConsumer<ScoredGroup> consumer;
    private final Set<String> promptsJudged = new HashSet<>();
    private final AtomicLong groupsJudged = new AtomicLong();
    private final AtomicLong redelivered = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong samples = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private Disposable subscription;

    private RejectionFilterService(KafkaSettings kafka, String consumerGroup, String runId, RejectionSettings settings,
                                   FilterFunnel funnel, Consumer<SftSample> sink) {
        this.runId = runId;
        this.filter = new RejectionFilter(settings, TaskRegistry.defaults(), funnel);
        this.sink = sink;
        String client = "rejection-filter-" + runId;
        this.producer = ReactiveProducer.create(kafka, client);
        this.deadLetters = new DeadLetterPublisher(kafka, producer, client);
        this.consumer = ReactiveConsumer.builder(kafka, consumerGroup, SCORED::decode).topics(Topics.ROLLOUTS_SCORED)
                .deadLetters(deadLetters).clientId(client).maxBuffered(64).build();
    }

    /**
     * Starts consuming at once.
     *
     * @param consumerGroup Kafka group of the filter instances (where a new group starts is the
     *                      consumer's {@code auto.offset.reset}: the caller positions it if the topic's
     *                      history should be skipped)
     * @param runId         the sampling job whose groups to judge
     * @param sink          receives every kept sample after it is on {@code sft.samples}, on one thread at a time
     */
    public static RejectionFilterService start(KafkaSettings kafka, String consumerGroup, String runId,
                                               RejectionSettings settings, FilterFunnel funnel, Consumer<SftSample> sink) {
        RejectionFilterService s = new RejectionFilterService(kafka, consumerGroup, runId, settings, funnel, sink);
        s.subscription = s.consumer.receive().concatMap(s::process)
                .subscribe(v -> { }, e -> s.fail("consuming stopped", e));
        log.info("rejection filter for {} started: {}", runId, settings);
        return s;
    }

    private Mono<Void> process(Received<ScoredGroup> r) {
        ScoredGroup g = r.value();
        String run = g.getGroup().getPrompt().getRunId();
        if (!runId.equals(run)) {
            r.ack(); // another job's or a training run's group: not ours to judge
            return Mono.empty();
        }
        RejectionFilter.Outcome out;
        try {
            out = filter.judge(g, System.currentTimeMillis());
        } catch (BadRecordException e) {
            log.warn("dead-lettering {} (key {}): {}", r, r.key(), e.getMessage());
            deadLettered.incrementAndGet();
            r.nack(e);
            return Mono.empty();
        }
        List<SftSample> kept = out.kept();
        return Flux.fromIterable(kept)
                .concatMap(s -> producer.send(Topics.SFT_SAMPLES, s.getId(), s, SAMPLE::encode).thenReturn(s))
                .doOnNext(s -> {
                    sink.accept(s);
                    samples.incrementAndGet();
                })
                .then(Mono.fromRunnable(() -> {
                    synchronized (promptsJudged) {
                        promptsJudged.add(g.getGroup().getPrompt().getId());
                    }
                    (out.redelivered() ? redelivered : groupsJudged).incrementAndGet();
                    r.ack();
                }))
                .onErrorResume(e -> {
                    fail("cannot publish samples of " + r + "; the group stays unacked", e);
                    return Mono.empty();
                }).then();
    }

    private void fail(String what, Throwable e) {
        if (failure.compareAndSet(null, e)) {
            log.error("rejection filter {} {}: {}", runId, what, e.toString(), e);
        }
    }

    /** Distinct prompts of the job whose group has been judged. */
    public int promptsJudged() {
        synchronized (promptsJudged) {
            return promptsJudged.size();
        }
    }

    public long groupsJudged() {
        return groupsJudged.get();
    }

    /** Groups judged before and delivered again: nothing counted or kept twice. */
    public long redelivered() {
        return redelivered.get();
    }

    /** Groups of the job sent to {@code rollouts.scored.dlq}; undecodable records are in {@link #stats()}'s count. */
    public long deadLettered() {
        return deadLettered.get();
    }

    /** Samples published to {@code sft.samples}. */
    public long samplesPublished() {
        return samples.get();
    }

    public FilterFunnel funnel() {
        return filter.funnel();
    }

    public org.rollstream.transport.ConsumerStats stats() {
        return consumer.stats();
    }

    /** The first fatal error (the broker refusing samples), if any. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /** Stops: groups in hand finish, acked offsets are committed, the producer is flushed and closed. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        consumer.close();
        if (subscription != null) {
            subscription.dispose();
        }
        deadLetters.close();
        producer.close();
        log.info("rejection filter {} stopped: {} groups judged, {} redelivered, {} dead-lettered, {} samples", runId,
                groupsJudged.get(), redelivered.get(), deadLettered.get(), samples.get());
    }

}
