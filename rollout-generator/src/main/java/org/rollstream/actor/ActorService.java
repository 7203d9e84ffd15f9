package org.rollstream.actor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.rollstream.policy.SampledSequence;
import org.rollstream.policy.SamplingParams;
import org.rollstream.policy.Tokenizer;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
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
import org.rollstream.transport.weights.AnnouncementSigner;
import org.rollstream.transport.weights.WeightReader;
import org.rollstream.transport.weights.WeightsSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The actor role: {@code prompts} in, {@code rollouts.sampled} out, one {@link SampledGroup} of G
 * completions per prompt.
 *
 * <ul>
 *   <li>Follows {@code policy.versions}, builds each new version's sessions in the background and
 *       swaps it in between batches; a version whose weights do not check out is refused and the
 *       current one keeps serving. No prompt is consumed before a first version loads.</li>
 *   <li>A prompt is sampled only with weights of its own run at version ≥ its
 *       {@code minPolicyVersion} ({@link RunBarrier}); groups are stamped with the run and version
 *       that actually sampled them.</li>
 *   <li>Prompts are acked only after their groups are on the broker (at-least-once; the learner
 *       deduplicates by group id = prompt id). A prompt that decodes but cannot be sampled goes to
 *       {@code prompts.dlq} with its reason and is counted; input never stops the actor.</li>
 *   <li>Anything else (a bug, the broker refusing groups after the producer's retries) is fatal:
 *       the prompts stay unacked and {@link #failure()} reports it to the owner, who stops the actor.</li>
 *   <li>{@link #stop(Duration)} drains: the batches in hand are finished and published, offsets
 *       committed, everything closed, within the given time.</li>
 * </ul>
 */
public final class ActorService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ActorService.class);
    private static final AvroCodec<Prompt> PROMPTS = AvroCodec.of(Prompt.class);
    private static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    /** Short: a lone prompt should not wait long for company, a busy topic fills batches anyway. */
    private static final Duration BATCH_WAIT = Duration.ofMillis(50);
    /** How long a prompt waits for the weights (run and version) it requires. */
    private static final Duration VERSION_WAIT = Duration.ofSeconds(60);
    /** How long the consumer waits at close for prompts in hand; prompts left waiting on a version are not acked. */
    private static final Duration CONSUMER_DRAIN = Duration.ofSeconds(10);
    /** The default bound of {@link #close()}. */
    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaSettings settings;
    private final ActorConfig config;
    private final Tokenizer tokenizer;
    private final Time time;
    private final PromptCheck check;
    private final AnnouncedRuns runs = new AnnouncedRuns();
    private final RunBarrier barrier = new RunBarrier(runs);
    private final PolicyLoader loader;
    private final WeightReader weights;
    private final AnnouncementSigner signer; // null: announcements are not checked
    private final GroupAssembler assembler;
    private final ReactiveProducer producer;
    private final DeadLetterPublisher deadLetters;
    private final PolicyVersionFollower follower;
    private final Scheduler sampling;
    private final ActorStats stats = new ActorStats();
    private final ServingSlot serving = new ServingSlot();
    private final AtomicLong batchCounter = new AtomicLong();
    private ReactiveConsumer<Prompt> consumer; // created with the first loaded version; guarded by this
    private Disposable subscription; // guarded by this
    private volatile boolean stopping;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final StopLatch stopLatch = new StopLatch();

    private ActorService(KafkaSettings settings, ActorConfig config, Tokenizer tokenizer, Time time, WeightsSettings weights) {
        this.settings = settings;
        this.config = config;
        this.tokenizer = tokenizer;
        this.time = time;
        this.check = new PromptCheck(TaskRegistry.defaults(), tokenizer);
        this.weights = new WeightReader(settings, config.actorId());
        this.signer = weights.signer().orElse(null);
        this.loader = new PolicyLoader(tokenizer, config, this.weights);
        this.assembler = new GroupAssembler(config);
        this.producer = ReactiveProducer.create(settings, config.actorId());
        this.deadLetters = new DeadLetterPublisher(settings, producer, config.actorId());
        this.follower = new PolicyVersionFollower(settings, config.policyName(), config.actorId(), runs, this::onAnnounced);
        this.sampling = Schedulers.newSingle("rollstream-sampler-" + config.actorId(), true);
    }

    /** Starts following policy versions; prompts are consumed once the first version is loaded. */
    public static ActorService start(KafkaSettings settings, ActorConfig config, Tokenizer tokenizer) {
        return start(settings, config, tokenizer, WeightsSettings.defaults());
    }

    /**
     * As {@link #start(KafkaSettings, ActorConfig, Tokenizer)}; with a signer in {@code weights},
     * announcements that are unsigned or signed with another key are refused (counted, logged)
     * and what serves keeps serving. Weights are fetched from wherever the announcement names.
     */
    public static ActorService start(KafkaSettings settings, ActorConfig config, Tokenizer tokenizer, WeightsSettings weights) {
        ActorService a = new ActorService(settings, config, tokenizer, Time.SYSTEM, weights);
        a.follower.start();
        log.info("actor {} started on {}{} with the {} sampling loop{}: waiting for a version of policy '{}'", config.actorId(),
                config.device(), config.fp16() ? " (fp16)" : "", config.effectiveSampler(),
                config.weightsAsInputs() ? " (weights fed as inputs, one session)" : "", config.policyName());
        return a;
    }

    // ---- policy versions (follower thread)

    /** @return true when this announcement needs no older fallback (loaded, or not newer than what serves) */
    private boolean onAnnounced(PolicyVersion v) {
        PolicyIdentity next = PolicyIdentity.of(v);
        PolicyIdentity current = serving.identity();
        if (stopping || (current != null && !current.isSupersededBy(next))) {
            return true;
        }
        if (signer != null) {
            AnnouncementSigner.Verdict verdict = signer.verify(v);
            if (verdict != AnnouncementSigner.Verdict.VALID) {
                stats.versionsRefused.incrementAndGet();
                (verdict == AnnouncementSigner.Verdict.UNSIGNED ? stats.versionsUnsigned : stats.versionsBadSignature).incrementAndGet();
                log.error("actor {} refused policy '{}' {}: announcement is {}; still serving {}", config.actorId(), v.getPolicy(), next,
                        verdict == AnnouncementSigner.Verdict.UNSIGNED ? "unsigned" : "signed with another key or altered",
                        current == null ? "nothing" : current);
                return false;
            }
        }
        ServingPolicy loaded;
        long t0 = time.nanoseconds();
        try {
            loaded = loader.load(v);
        } catch (RuntimeException e) { // WeightsException, WeightStoreException, or ORT refusing the session
            stats.versionsRefused.incrementAndGet();
            log.error("actor {} refused policy '{}' {} ({}): {}; still serving {}", config.actorId(), v.getPolicy(), next,
                    v.getWeightsLocation(), e.getMessage(), current == null ? "nothing" : current);
            return false;
        }
        if (!serving.install(loaded)) { // loaded while stopping: closed, never installed
            return true;
        }
        stats.currentVersion.set(loaded.version());
        stats.currentRunId = next.runId();
        stats.versionsLoaded.incrementAndGet();
        stats.handOver(Math.max(0, time.milliseconds() - v.getCreatedAtMs()) * 1_000_000);
        log.info("actor {} now serving policy '{}' {} (loaded in {} ms)", config.actorId(), v.getPolicy(), next,
                (time.nanoseconds() - t0) / 1_000_000);
        if (current == null) {
            startConsuming();
        }
        return true;
    }

    private synchronized void startConsuming() {
        if (stopping || consumer != null) {
            return;
        }
        consumer = ReactiveConsumer.builder(settings, config.consumerGroup(), PROMPTS::decode)
                .topics(Topics.PROMPTS).deadLetters(deadLetters).clientId(config.actorId())
                .maxBuffered(2 * config.promptsPerBatch()).closeTimeout(CONSUMER_DRAIN).build();
        stats.consumer = consumer.stats();
        subscription = consumer.receive()
                .bufferTimeout(config.promptsPerBatch(), BATCH_WAIT, true)
                .concatMap(this::processBatch, 1)
                .subscribe(v -> { }, e -> fail("stopped consuming prompts", e));
    }

    // ---- prompts (sampling thread)

    private record Item(Received<Prompt> received, int[] tokens) {
    }

    private record Sampled(Received<Prompt> received, SampledGroup group, long tokens) {
    }

    private Mono<Void> processBatch(List<Received<Prompt>> batch) {
        stats.promptsConsumed.addAndGet(batch.size());
        return Mono.fromCallable(() -> sample(batch))
                .subscribeOn(sampling)
                .flatMapMany(Flux::fromIterable)
                .flatMap(this::publish)
                .then()
                .onErrorResume(e -> { // a bug: the batch stays unacked, the owner is told to stop (a restart redelivers it)
                    stats.batchFailures.incrementAndGet();
                    fail("failed on a batch of " + batch.size() + " prompts", e);
                    return Mono.empty();
                });
    }

    /**
     * Samples the prompts of one batch, each with weights its {@link RunBarrier} accepts: prompts
     * that can be sampled now are, the others wait (bounded) for new weights and are sampled, or
     * refused, as versions arrive. Prompts still waiting when the actor stops stay unacked.
     */
    private List<Sampled> sample(List<Received<Prompt>> all) {
        List<Received<Prompt>> waiting = new ArrayList<>(all.size());
        for (Received<Prompt> r : all) {
            String policy = r.value().getPolicy() == null ? "" : r.value().getPolicy().toString();
            if (!policy.isBlank() && !config.policyName().equals(policy)) {
                // issued for another policy sharing the topic: its own actors judge it
                stats.promptsForeign.incrementAndGet();
                r.ack();
                continue;
            }
            try {
                check.checkFields(r.value());
                waiting.add(r);
            } catch (BadRecordException e) {
                reject(r, e);
            }
        }
        List<Sampled> out = new ArrayList<>(waiting.size());
        Timer timer = time.timer(VERSION_WAIT);
        while (!waiting.isEmpty()) { // while stopping: one round, sampling what needs no waiting
            ServingPolicy policy = serving.acquire();
            if (policy == null) {
                break;
            }
            List<Received<Prompt>> later = new ArrayList<>();
            try {
                boolean expired = timer.isExpired();
                List<Received<Prompt>> now = new ArrayList<>();
                for (Received<Prompt> r : waiting) {
                    RunBarrier.Decision d = barrier.decide(r.value(), policy.identity(), expired);
                    switch (d.action()) {
                        case SAMPLE -> {
                            if (d.reason() != null) {
                                stats.versionWaitsExpired.incrementAndGet();
                                log.warn("actor {}: {}", config.actorId(), d.reason());
                            }
                            now.add(r);
                        }
                        case WAIT -> later.add(r);
                        case REFUSE -> {
                            stats.promptsOfOtherRuns.incrementAndGet();
                            reject(r, new BadRecordException(d.reason()));
                        }
                    }
                }
                out.addAll(sampleWith(policy, now));
            } finally {
                policy.release();
            }
            waiting = later;
            if (waiting.isEmpty() || stopping) {
                break;
            }
            try {
                serving.awaitChange(policy, timer);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return out;
    }

    /** Tokenizes (refusing what does not fit) and samples {@code batch} with {@code policy}. */
    private List<Sampled> sampleWith(ServingPolicy policy, List<Received<Prompt>> batch) {
        List<Item> items = new ArrayList<>(batch.size());
        for (Received<Prompt> r : batch) {
            try {
                items.add(new Item(r, check.tokens(r.value(), policy.spec().contextLength())));
            } catch (BadRecordException e) {
                reject(r, e);
            }
        }
        if (items.isEmpty()) {
            return List.of();
        }
        List<int[]> prompts = items.stream().map(Item::tokens).toList();
        SamplingParams params = new SamplingParams(config.temperature(), config.topP(), config.maxNewTokens(),
                new int[]{tokenizer.eos()}, batchSeed(), config.topK());
        long t0 = time.nanoseconds();
        stats.servingStartNanos.compareAndSet(ActorStats.UNSET, t0);
        BatchSampler.Batch drawn;
        try {
            drawn = sampleOnce(policy, prompts, params, items.size());
        } catch (RuntimeException e) {
            stats.batchFailures.incrementAndGet();
            log.error("actor {} failed twice to sample a batch of {} prompts; dead-lettering them: {}", config.actorId(),
                    items.size(), e.toString());
            RetriableRecordException cause = new RetriableRecordException("sampling failed twice: " + e.getMessage(), e);
            items.forEach(i -> i.received().fail(cause));
            stats.promptsRejected.addAndGet(items.size());
            return List.of();
        }
        long nanos = time.nanoseconds() - t0;
        stats.samplingNanos.addAndGet(nanos);
        stats.batches.incrementAndGet();
        stats.nucleusLimitedSteps.addAndGet(drawn.nucleusLimitedSteps());
        List<Sampled> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            Item it = items.get(i);
            List<SampledSequence> seqs = drawn.groups().get(i);
            long tokens = seqs.stream().mapToLong(SampledSequence::length).sum();
            stats.tokensGenerated.addAndGet(tokens);
            out.add(new Sampled(it.received(), assembler.assemble(it.received().value(), it.tokens(), seqs,
                    policy.identity(), nanos / 1_000_000), tokens));
        }
        return out;
    }

    /** An ONNX Runtime failure is not the prompts' fault and may pass: one retry, then it is given up. */
    private BatchSampler.Batch sampleOnce(ServingPolicy policy, List<int[]> prompts, SamplingParams params, int n) {
        try {
            return policy.sampler().sample(prompts, config.groupSize(), params);
        } catch (RuntimeException first) {
            stats.samplingRetries.incrementAndGet();
            log.warn("actor {} failed to sample a batch of {} prompts, retrying once: {}", config.actorId(), n, first.toString());
            return policy.sampler().sample(prompts, config.groupSize(), params);
        }
    }

    private long batchSeed() {
        return config.seed() * 1_000_003L + batchCounter.getAndIncrement();
    }

    private void reject(Received<Prompt> r, BadRecordException reason) {
        stats.promptsRejected.incrementAndGet();
        log.warn("actor {} dead-letters prompt {}: {}", config.actorId(), r, reason.getMessage());
        r.fail(reason);
    }

    private Mono<Void> publish(Sampled s) {
        String key = s.group().getPrompt().getId();
        return producer.send(Topics.ROLLOUTS_SAMPLED, key, SAMPLED.encode(s.group()))
                .doOnSuccess(m -> {
                    s.received().ack();
                    stats.groupsPublished.incrementAndGet();
                    stats.tokensPublished.addAndGet(s.tokens());
                    stats.lastPublishedNanos.set(time.nanoseconds());
                })
                .onErrorResume(e -> { // the broker refused it after the producer's own retries: stays unacked, fatal
                    stats.batchFailures.incrementAndGet();
                    fail("could not publish group " + key, e);
                    return Mono.empty();
                })
                .then();
    }

    // ---- lifecycle

    private void fail(String what, Throwable e) {
        if (failure.compareAndSet(null, e)) {
            log.error("actor {} {}: {}", config.actorId(), what, e.toString(), e);
        } else {
            log.error("actor {} {}: {}", config.actorId(), what, e.toString());
        }
    }

    /**
     * The first fatal error, if any: a bug, or the broker refusing sampled groups. The prompts
     * concerned stay unacked; the owner should stop the actor (the command exits 1) so that a
     * restart redelivers them.
     */
    public java.util.Optional<Throwable> failure() {
        return java.util.Optional.ofNullable(failure.get());
    }

    public ActorStats stats() {
        return stats;
    }

    public ActorConfig config() {
        return config;
    }

    /**
     * Stops gracefully within {@code timeout}: takes no new weights, finishes the batches in hand
     * (sampled, published, acked; prompts still waiting for weights are left unacked for
     * redelivery), commits, leaves the group and closes the producer and every ONNX Runtime
     * session. Idempotent: a second caller waits (within its own timeout) for the first; safe from a shutdown hook.
     *
     * @return true when everything finished in time; false when a step was cut short (what was not
     *         committed is redelivered to the group, and the learner deduplicates)
     */
    public boolean stop(Duration timeout) {
        Timer timer = Time.SYSTEM.timer(timeout);
        ReactiveConsumer<Prompt> c;
        Disposable s;
        if (!stopLatch.claim()) { // another caller is stopping (or has stopped): wait for it, within our own bound
            return stopLatch.await(timeout);
        }
        synchronized (this) {
            stopping = true;
            c = consumer;
            s = subscription;
        }
        serving.wakeWaiters(); // batches waiting for weights give up now
        boolean clean = true;
        if (c != null) { // hands out nothing more, waits for the prompts in hand, commits, leaves the group
            clean = Bounded.run("actor " + config.actorId() + " consumer close", c::close, timer);
        }
        if (s != null) {
            s.dispose();
        }
        clean &= Bounded.run("actor " + config.actorId() + " producer close", producer::close, timer);
        clean &= Bounded.run("actor " + config.actorId() + " follower close", follower::close, timer);
        weights.close();
        loader.close(); // no more loads: shared sessions close with the last version serving on them
        sampling.dispose();
        serving.close(); // a batch still sampling holds its own reference: its sessions close after it
        log.info("actor {} stopped{}: {}", config.actorId(), clean ? "" : " (cut short after " + timeout.toSeconds() + " s)", stats);
        stopLatch.done(clean);
        return clean;
    }


    /** {@link #stop(Duration)} with {@link #DEFAULT_STOP_TIMEOUT}. */
    @Override
    public void close() {
        stop(DEFAULT_STOP_TIMEOUT);
    }
}
