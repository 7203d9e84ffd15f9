package org.rollstream.actor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.rollstream.policy.PromptTokens;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The actor role: {@code prompts} in, {@code rollouts.sampled} out, one {@link SampledGroup} of G
 * completions per prompt. Follows {@code policy.versions}, builds each new version's sessions in
 * the background and swaps it in between batches; a version whose weights do not check out is
 * refused and the current one keeps serving. No prompt is consumed before a first version loads.
 * Prompts are acked only after their groups are on the broker (at-least-once; the learner
 * deduplicates by group id = prompt id).
 */
public final class ActorService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ActorService.class);
    private static final AvroCodec<Prompt> PROMPTS = AvroCodec.of(Prompt.class);
    private static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    /** Short: a lone prompt should not wait long for company, a busy topic fills batches anyway. */
    private static final Duration BATCH_WAIT = Duration.ofMillis(50);
    /** How long a batch waits for the policy version its prompts require. */
    private static final Duration VERSION_WAIT = Duration.ofSeconds(60);

    private final KafkaSettings settings;
    private final ActorConfig config;
    private final Tokenizer tokenizer;
    private final PromptCheck check = new PromptCheck(TaskRegistry.defaults());
    private final PolicyLoader loader;
    private final GroupAssembler assembler;
    private final ReactiveProducer producer;
    private final DeadLetterPublisher deadLetters;
    private final PolicyVersionFollower follower;
    private final Scheduler sampling;
    private final ActorStats stats = new ActorStats();
    private final AtomicReference<ServingPolicy> serving = new AtomicReference<>();
    private final AtomicLong batchCounter = new AtomicLong();
    private ReactiveConsumer<Prompt> consumer; // created with the first loaded version; guarded by this
    private Disposable subscription;
    private boolean closed;

    private ActorService(KafkaSettings settings, ActorConfig config, Tokenizer tokenizer) {
        this.settings = settings;
        this.config = config;
        this.tokenizer = tokenizer;
        this.loader = new PolicyLoader(tokenizer, config.device());
        this.assembler = new GroupAssembler(config);
        this.producer = ReactiveProducer.create(settings, config.actorId());
        this.deadLetters = new DeadLetterPublisher(settings, producer, config.actorId());
        this.follower = new PolicyVersionFollower(settings, config.policyName(), config.actorId(), this::onAnnounced);
        this.sampling = Schedulers.newSingle("rollstream-sampler-" + config.actorId(), true);
    }

    /** Starts following policy versions; prompts are consumed once the first version is loaded. */
    public static ActorService start(KafkaSettings settings, ActorConfig config, Tokenizer tokenizer) {
        ActorService a = new ActorService(settings, config, tokenizer);
        a.follower.start();
        log.info("actor {} started: waiting for a version of policy '{}'", config.actorId(), config.policyName());
        return a;
    }

    // ---- policy versions (follower thread)

    /** @return true when this announcement needs no older fallback (loaded, or not newer than what serves) */
    private boolean onAnnounced(PolicyVersion v) {
        ServingPolicy current = serving.get();
        if (current != null && v.getVersion() <= current.version()) {
            return true;
        }
        ServingPolicy loaded;
        long t0 = System.nanoTime();
        try {
            loaded = loader.load(v);
        } catch (RuntimeException e) { // WeightsException, or ORT refusing the session
            stats.versionsRefused.incrementAndGet();
            log.error("actor {} refused policy '{}' version {} ({}): {}; still serving version {}", config.actorId(),
                    v.getPolicy(), v.getVersion(), v.getWeightsLocation(), e.getMessage(), current == null ? "none" : current.version());
            return false;
        }
        ServingPolicy old = serving.getAndSet(loaded);
        stats.currentVersion.set(loaded.version());
        stats.versionsLoaded.incrementAndGet();
        log.info("actor {} now serving policy '{}' version {} (loaded in {} ms)", config.actorId(), v.getPolicy(),
                v.getVersion(), (System.nanoTime() - t0) / 1_000_000);
        if (old != null) {
            old.release(); // closes once the batch sampling with it (if any) is done
        } else {
            startConsuming();
        }
        return true;
    }

    private synchronized void startConsuming() {
        if (closed || consumer != null) {
            return;
        }
        consumer = ReactiveConsumer.builder(settings, config.consumerGroup(), PROMPTS::decode)
                .topics(Topics.PROMPTS).deadLetters(deadLetters).clientId(config.actorId())
                .maxBuffered(2 * config.promptsPerBatch()).closeTimeout(Duration.ofSeconds(30)).build();
        subscription = consumer.receive()
                .bufferTimeout(config.promptsPerBatch(), BATCH_WAIT, true)
                .concatMap(this::processBatch, 1)
                .subscribe(v -> { }, e -> log.error("actor {} stopped consuming prompts: {}", config.actorId(), e.toString()));
    }

    // ---- prompts

    private record Item(Received<Prompt> received, int[] tokens) {
    }

    private Mono<Void> processBatch(List<Received<Prompt>> batch) {
        stats.promptsConsumed.addAndGet(batch.size());
        return Mono.fromCallable(() -> sample(batch))
                .subscribeOn(sampling)
                .flatMapMany(Flux::fromIterable)
                .flatMap(this::publish)
                .then()
                .onErrorResume(e -> { // a bug must not end the stream; the batch stays unacked and is redelivered
                    stats.batchFailures.incrementAndGet();
                    log.error("actor {} failed on a batch of {} prompts: {}", config.actorId(), batch.size(), e.toString(), e);
                    return Mono.empty();
                });
    }

    private record Sampled(Received<Prompt> received, SampledGroup group) {
    }

    /** Validates, encodes and samples one batch with the version current at its start. */
    private List<Sampled> sample(List<Received<Prompt>> all) {
        List<Received<Prompt>> batch = new ArrayList<>(all.size());
        for (Received<Prompt> r : all) {
            if (config.policyName().equals(r.value().getPolicy())) {
                batch.add(r);
            } else { // issued for another policy sharing the topic: not ours to sample
                stats.promptsForeign.incrementAndGet();
                r.ack();
            }
        }
        if (batch.isEmpty()) {
            return List.of();
        }
        awaitVersion(batch.stream().mapToLong(r -> r.value().getMinPolicyVersion()).max().orElse(0));
        ServingPolicy policy = acquireServing();
        try {
            List<Item> items = new ArrayList<>(batch.size());
            for (Received<Prompt> r : batch) {
                String problem = check.problem(r.value()).orElse(null);
                int[] tokens = problem == null ? PromptTokens.encode(tokenizer, r.value().getText()) : null;
                if (problem == null && tokens.length >= policy.spec().contextLength()) {
                    problem = "prompt " + r.value().getId() + " has " + tokens.length + " tokens, which leaves no room in the context of "
                            + policy.spec().contextLength();
                }
                if (problem != null) {
                    reject(r, problem);
                } else {
                    items.add(new Item(r, tokens));
                }
            }
            if (items.isEmpty()) {
                return List.of();
            }
            List<int[]> prompts = items.stream().map(Item::tokens).toList();
            SamplingParams params = new SamplingParams(config.temperature(), config.topP(), config.maxNewTokens(),
                    new int[]{tokenizer.eos()}, batchSeed());
            long t0 = System.nanoTime();
            List<List<SampledSequence>> groups;
            try {
                groups = policy.sampler().sample(prompts, config.groupSize(), params);
            } catch (RuntimeException e) { // an ORT failure is not the prompts' fault, but they must not vanish or stall
                stats.batchFailures.incrementAndGet();
                log.error("actor {} failed to sample a batch of {} prompts: {}", config.actorId(), items.size(), e.toString());
                items.forEach(i -> i.received().fail(new IllegalStateException("sampling failed: " + e.getMessage(), e)));
                return List.of();
            }
            long nanos = System.nanoTime() - t0;
            stats.samplingNanos.addAndGet(nanos);
            stats.batches.incrementAndGet();
            List<Sampled> out = new ArrayList<>(items.size());
            for (int i = 0; i < items.size(); i++) {
                Item it = items.get(i);
                List<SampledSequence> seqs = groups.get(i);
                seqs.forEach(s -> stats.tokensGenerated.addAndGet(s.length()));
                out.add(new Sampled(it.received(), assembler.assemble(it.received().value(), it.tokens(), seqs,
                        policy.version(), nanos / 1_000_000)));
            }
            return out;
        } finally {
            policy.release();
        }
    }

    /**
     * Holds the batch until the serving version reaches the prompts' {@code minPolicyVersion}: the
     * learner's staleness bound, enforced where sampling happens (η = 0 becomes truly synchronous).
     * Bounded, so a refused version cannot stall the actor; the learner then drops what is too stale.
     */
    private void awaitVersion(long min) {
        long deadline = System.nanoTime() + VERSION_WAIT.toNanos();
        while (stats.currentVersion.get() < min && System.nanoTime() < deadline && !isClosed()) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (stats.currentVersion.get() < min) {
            stats.versionWaitsExpired.incrementAndGet();
            log.warn("actor {} waited {} s for policy version {} and samples with version {}", config.actorId(),
                    VERSION_WAIT.toSeconds(), min, stats.currentVersion.get());
        }
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    /** The current version, referenced for one batch; retries if it was swapped out and closed meanwhile. */
    private ServingPolicy acquireServing() {
        while (true) {
            ServingPolicy p = serving.get();
            if (p == null) {
                throw new IllegalStateException("actor " + config.actorId() + " is closed");
            }
            if (p.acquire()) {
                return p;
            }
        }
    }

    private long batchSeed() {
        return config.seed() * 1_000_003L + batchCounter.getAndIncrement();
    }

    private void reject(Received<Prompt> r, String reason) {
        stats.promptsRejected.incrementAndGet();
        log.warn("actor {} dead-letters prompt {}: {}", config.actorId(), r, reason);
        r.fail(new InvalidPromptException(reason));
    }

    private Mono<Void> publish(Sampled s) {
        String key = s.group().getPrompt().getId();
        return producer.send(Topics.ROLLOUTS_SAMPLED, key, SAMPLED.encode(s.group()))
                .doOnSuccess(m -> {
                    s.received().ack();
                    stats.groupsPublished.incrementAndGet();
                })
                .onErrorResume(e -> { // stays unacked: redelivered to whoever owns the partition next
                    stats.batchFailures.incrementAndGet();
                    log.error("actor {} could not publish group {}: {}", config.actorId(), key, e.toString());
                    return Mono.empty();
                })
                .then();
    }

    // ---- lifecycle

    public ActorStats stats() {
        return stats;
    }

    public ActorConfig config() {
        return config;
    }

    /** Finishes the batch in hand (its groups published and acked), then stops following and consuming. */
    @Override
    public void close() {
        ReactiveConsumer<Prompt> c;
        Disposable s;
        synchronized (this) {
            closed = true;
            c = consumer;
            s = subscription;
        }
        follower.close();
        if (c != null) {
            c.close();
        }
        if (s != null) {
            s.dispose();
        }
        producer.flush();
        producer.close();
        sampling.dispose();
        ServingPolicy p = serving.getAndSet(null);
        if (p != null) {
            p.release();
        }
        log.info("actor {} closed: {}", config.actorId(), stats);
    }
}
