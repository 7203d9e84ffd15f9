package org.rollstream.learner;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.learner.eval.Evaluator;
import org.rollstream.learner.grpo.GroupLedger;
import org.rollstream.learner.grpo.GrpoTrainer;
import org.rollstream.learner.grpo.StalenessGate;
import org.rollstream.learner.grpo.TrainingGroup;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.learner.sft.SftTrainer;
import org.rollstream.policy.DjlPolicy;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.MetricEvent;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.schemas.serde.RecordDecodeException;
import org.rollstream.tasks.ColdStartData;
import org.rollstream.tasks.JsonlDataset;
import org.rollstream.tasks.SftExample;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.DeadLetterPublisher;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;

/**
 * The learner process: cold-start SFT, then GRPO on {@code rollouts.scored}, publishing a policy
 * version after every k steps, evaluating, checkpointing, and feeding prompts within the
 * staleness bound. {@link #run()} blocks until the configured steps are done or {@link #stop()}.
 *
 * <p>Consumed offsets of {@code rollouts.scored} are kept in the checkpoint, not committed to a
 * consumer group: after a crash the learner resumes exactly behind the last checkpointed step,
 * and the {@link GroupLedger} skips anything trained before it.
 */
public final class LearnerService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LearnerService.class);
    private static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);
    private static final AvroCodec<Prompt> PROMPT = AvroCodec.of(Prompt.class);
    private static final AvroCodec<PolicyVersion> VERSION = AvroCodec.of(PolicyVersion.class);
    private static final AvroCodec<MetricEvent> METRIC = AvroCodec.of(MetricEvent.class);
    private static final int KEEP_SNAPSHOTS = 6;
    /** Steps averaged for the summary's first and last reward. */
    public static final int REWARD_WINDOW = 10;

    private final KafkaSettings kafka;
    private final LearnerConfig config;
    private final Tokenizer tokenizer;
    private final TaskRegistry tasks;
    private final ReactiveProducer producer;
    private final DeadLetterPublisher deadLetters;
    private final MetricsLog metrics;
    private final TaskDataset dataset;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicReference<Progress> progress = new AtomicReference<>(Progress.START);

    /** A snapshot for progress lines; {@code sftLoss} is set during the cold start, NaN afterwards. */
    public record Progress(String phase, long step, long totalSteps, long version, double sftLoss, double meanReward,
                           double heldOutAccuracy, double kl, double meanStaleness, double tokensPerSecond,
                           long dropped, long duplicates, long skipped) {
        static final Progress START = new Progress("starting", 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                0, 0, 0, 0, 0);

        /** During the cold start: SFT step i of n and its loss. */
        static Progress sft(long i, long n, double loss) {
            return new Progress("cold-start SFT", i, n, 0, loss, Double.NaN, Double.NaN, Double.NaN, 0, 0, 0, 0, 0);
        }

        public boolean coldStart() {
            return "cold-start SFT".equals(phase);
        }
    }

    /**
     * What a finished run reports. {@code coldStartAccuracy} is the held-out accuracy when GRPO began:
     * after the cold start, or at the checkpoint a resumed run started from. {@code firstReward} and
     * {@code lastReward} are mean step rewards over the first and last {@value LearnerService#REWARD_WINDOW} steps.
     */
    public record Summary(long steps, double coldStartAccuracy, double finalAccuracy, double firstReward,
                          double lastReward, long dropped, long duplicates, long skipped, long timedOutPrompts,
                          double seconds, long grpoStartMs, double grpoSeconds, double trainSeconds,
                          double evalSeconds, long groupsTrained, List<MetricEvent> metrics) {
        /** Milliseconds from the start of GRPO to the first evaluation reaching {@code accuracy}; -1 if never. */
        public long millisToAccuracy(double accuracy) {
            for (MetricEvent e : metrics) {
                Double a = e.getValues().get("heldout_accuracy");
                if ("eval".equals(e.getKind()) && a != null && a >= accuracy && e.getTimestampMs() >= grpoStartMs) {
                    return e.getTimestampMs() - grpoStartMs;
                }
            }
            return -1;
        }
    }

    public LearnerService(KafkaSettings kafka, LearnerConfig config, Tokenizer tokenizer, TaskRegistry tasks,
                          Consumer<MetricEvent> metricListener) {
        this.kafka = kafka;
        this.config = config;
        this.tokenizer = tokenizer;
        this.tasks = tasks;
        this.dataset = dataset(); // an unknown task or a bad dataset file fails here, before any work
        this.producer = ReactiveProducer.create(kafka, "learner-" + config.runId());
        this.deadLetters = new DeadLetterPublisher(kafka, producer, "learner/" + config.runId());
        Consumer<MetricEvent> toTopic = e -> producer.send(Topics.METRICS, "learner/" + config.runId(), METRIC.encode(e))
                .subscribe(m -> { }, err -> LOG.warn("metric not published: {}", err.toString()));
        this.metrics = new MetricsLog(config.metricsCsv(), config.runId(),
                metricListener == null ? toTopic : toTopic.andThen(metricListener));
    }

    public Progress progress() {
        return progress.get();
    }

    public void stop() {
        stopping.set(true);
    }

    public Summary run() {
        List<TaskInstance> heldOut = dataset.heldOut().subList(0, Math.min(config.evalSize(), dataset.heldOut().size()));
        if (heldOut.isEmpty()) {
            throw new IllegalStateException("dataset " + dataset.name() + " has no held-out problems to evaluate on");
        }
        try (NDManager nd = NDManager.newBaseManager();
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka.consumerProps("learner-" + config.runId()))) {
            Session session = new Session(nd, consumer, dataset, heldOut);
            session.begin();
            while (session.step < config.grpoSteps() && !stopping.get()) {
                session.feed();
                session.receive(consumer.poll(Duration.ofMillis(100)));
                List<TrainingGroup> groups = session.buffer.take(session.gate, session.version);
                if (groups != null) {
                    session.train(groups);
                }
            }
            return session.finish();
        }
    }

    /** The state of one run of {@link #run()}: model, optimizer, bookkeeping and counters. */
    private final class Session {
        private final long started = System.nanoTime();
        private final NDManager nd;
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final TaskDataset dataset;
        private final List<TaskInstance> heldOut;
        private final List<TopicPartition> partitions;
        private final Evaluator evaluator = new Evaluator(tokenizer, tasks, config.maxNewTokens());
        private final Checkpoints checkpoints = new Checkpoints(config.checkpointsDir());
        private final DjlPolicy policy;
        private final AdamW optimizer;
        private final GroupLedger ledger = new GroupLedger(100_000);
        private final PromptFeeder feeder;
        private final StalenessGate gate = new StalenessGate(config.grpo().maxStaleness());
        private final GroupBuffer buffer = new GroupBuffer(config.grpo().groupsPerStep(), config.grpo().dynamicSampling());
        private DjlPolicy reference;
        private GrpoTrainer trainer;
        private long step;
        private long version;
        private double coldStartAccuracy = Double.NaN;
        private double lastAccuracy = Double.NaN;
        private final List<Double> stepRewards = new ArrayList<>();
        private long grpoStartMs;
        private long grpoStartNs;
        private long trainNanos;
        private long evalNanos;
        private long groupsTrained;
        private long trainedTokens;

        Session(NDManager nd, KafkaConsumer<byte[], byte[]> consumer, TaskDataset dataset, List<TaskInstance> heldOut) {
            this.nd = nd;
            this.consumer = consumer;
            this.dataset = dataset;
            this.heldOut = heldOut;
            this.partitions = partitions(consumer);
            consumer.assign(partitions);
            this.policy = new DjlPolicy(config.spec(), nd, config.seed());
            this.optimizer = AdamW.standard(nd, config.grpo().weightDecay());
            this.feeder = new PromptFeeder(config.runId(), config.policyName(), dataset, config.grpo().inFlightCapacity(),
                    config.grpo().maxStaleness(), config.promptTimeoutMs(), System::currentTimeMillis);
        }

        /** Resumes from the latest checkpoint, or starts fresh (initial weights or cold start); publishes the version. */
        void begin() {
            var resumed = checkpoints.latest();
            if (resumed.isPresent()) {
                var c = resumed.get();
                LOG.info("resuming from {}", c.path());
                policy.loadWeights(c.policy());
                if (c.reference() != null) {
                    reference = new DjlPolicy(config.spec(), nd, c.reference());
                }
                optimizer.restore(toArrays(nd, c.optimizer()), c.state().optimizerSteps());
                ledger.restore(c.state().trainedGroups());
                feeder.restore(c.state().feederCursor());
                for (TopicPartition tp : partitions) {
                    Long off = c.state().offsets().get(tp.partition());
                    if (off != null) {
                        consumer.seek(tp, off);
                    } else {
                        consumer.seekToBeginning(List.of(tp));
                    }
                }
                step = c.state().step();
                version = c.state().version();
            } else {
                consumer.seekToEnd(partitions);
                partitions.forEach(consumer::position); // pin the start before any prompt is issued
                if (config.initWeights() != null) {
                    WeightSnapshot init = WeightSnapshot.open(config.initWeights());
                    if (!init.spec().equals(config.spec())) {
                        throw new IllegalArgumentException("initial weights " + config.initWeights() + " are for "
                                + init.spec() + ", not " + config.spec());
                    }
                    policy.loadWeights(init.load());
                } else if (config.coldStart().steps() > 0) {
                    coldStart(policy, dataset);
                }
                if (config.grpo().klBeta() > 0) {
                    reference = new DjlPolicy(config.spec(), nd, policy.exportWeights());
                }
            }
            publishVersion(policy, version, step);
            Evaluator.Result first = evaluator.evaluate(policy, heldOut);
            coldStartAccuracy = first.accuracy();
            lastAccuracy = first.accuracy();
            recordEval(step, first);
            setProgress("grpo", step, version, Double.NaN, lastAccuracy, Double.NaN, 0, 0, 0, 0, 0);
            trainer = new GrpoTrainer(policy, reference, optimizer, config.grpo(), tokenizer.pad());
            grpoStartMs = System.currentTimeMillis();
            grpoStartNs = System.nanoTime();
        }

        /** Publishes prompts into the capacity freed since the last call. */
        void feed() {
            List<Prompt> prompts = feeder.next(version);
            if (!prompts.isEmpty()) {
                Flux.fromIterable(prompts)
                        .concatMap(p -> producer.send(Topics.PROMPTS, p.getId(), p, PROMPT::encode))
                        .blockLast(Duration.ofSeconds(30));
            }
        }

        /** Decodes, deduplicates and buffers scored groups; unusable records go to the dead-letter topic. */
        void receive(ConsumerRecords<byte[], byte[]> records) {
            for (ConsumerRecord<byte[], byte[]> r : records) {
                ScoredGroup sg;
                try {
                    sg = SCORED.decode(r.value());
                } catch (RecordDecodeException e) {
                    deadLetters.publish(r, DeadLetterPublisher.STAGE_DECODE, e).block(Duration.ofSeconds(30));
                    continue;
                }
                String id = sg.getGroup().getGroupId();
                if (!id.startsWith(config.runId() + "/")) {
                    continue; // another run's group on a shared cluster
                }
                feeder.settle();
                if (!ledger.firstTime(id)) {
                    continue;
                }
                try {
                    buffer.add(GroupConversion.toTrainingGroup(sg), r.partition(), r.offset());
                } catch (IllegalArgumentException e) {
                    deadLetters.publish(r, DeadLetterPublisher.STAGE_PROCESS, e).block(Duration.ofSeconds(30));
                }
            }
        }

        /** One GRPO step, then publishing, metrics, evaluation and checkpoint as configured. */
        void train(List<TrainingGroup> groups) {
            long t0 = System.nanoTime();
            GrpoTrainer.StepStats s = trainer.step(groups);
            trainNanos += System.nanoTime() - t0;
            groupsTrained += groups.size();
            trainedTokens += s.completionTokens();
            step++;
            final long trainedVersion = version;
            double staleness = groups.stream()
                    .mapToLong(g -> StalenessGate.staleness(g.policyVersion(), trainedVersion)).average().orElse(0);
            if (step % config.grpo().publishEvery() == 0) {
                version++;
                publishVersion(policy, version, step);
            }
            double tps = trainedTokens / Math.max((System.nanoTime() - grpoStartNs) / 1e9, 1e-9);
            double reward = buffer.drainMeanReward();
            if (Double.isNaN(reward)) {
                reward = s.meanReward();
            }
            stepRewards.add(reward);
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("reward", reward);
            m.put("reward_trained", s.meanReward());
            m.put("loss", s.loss());
            m.put("kl", s.kl());
            m.put("clip_fraction", s.clipFraction());
            m.put("importance_weight", s.importanceWeight());
            m.put("grad_norm", s.gradNorm());
            m.put("response_length", (double) s.completionTokens() / s.sequences());
            m.put("staleness", staleness);
            m.put("dropped_stale", (double) gate.dropped());
            m.put("duplicates", (double) ledger.duplicates());
            m.put("skipped_uninformative", (double) buffer.skipped());
            m.put("skipped_nonfinite", (double) trainer.skippedSteps());
            m.put("tokens_per_s", tps);
            m.put("in_flight", (double) feeder.inFlight());
            m.put("version", (double) version);
            metrics.record("train", step, m);

            if (step % config.evalEvery() == 0 || step == config.grpoSteps()) {
                long e0 = System.nanoTime();
                Evaluator.Result e = evaluator.evaluate(policy, heldOut);
                evalNanos += System.nanoTime() - e0;
                lastAccuracy = e.accuracy();
                recordEval(step, e);
            }
            if (step % config.checkpointEvery() == 0 || step == config.grpoSteps()) {
                checkpoints.save(new Checkpoints.State(step, version, feeder.cursor(),
                                buffer.safeOffsets(positions(consumer, partitions)), ledger.snapshot(),
                                optimizer.steps(), config.spec().toJson(), config.toString()),
                        policy.exportWeights(), reference == null ? null : reference.exportWeights(),
                        fromArrays(optimizer.state()));
            }
            setProgress("grpo", step, version, reward, lastAccuracy, s.kl(), staleness, tps, gate.dropped(),
                    ledger.duplicates(), buffer.skipped());
        }

        /** Mean step reward over [from, to), clamped to the steps there were; one step's reward is too noisy to compare. */
        private double windowMean(int from, int to) {
            List<Double> w = stepRewards.subList(Math.max(0, from), Math.min(stepRewards.size(), to));
            return w.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }

        Summary finish() {
            double lastReward = windowMean(stepRewards.size() - REWARD_WINDOW, stepRewards.size());
            setProgress("done", step, version, lastReward, lastAccuracy, Double.NaN, 0, 0, gate.dropped(),
                    ledger.duplicates(), buffer.skipped());
            return new Summary(step, coldStartAccuracy, lastAccuracy, windowMean(0, REWARD_WINDOW), lastReward, gate.dropped(),
                    ledger.duplicates(), buffer.skipped(), feeder.timedOut(), (System.nanoTime() - started) / 1e9,
                    grpoStartMs, (System.nanoTime() - grpoStartNs) / 1e9, trainNanos / 1e9, evalNanos / 1e9,
                    groupsTrained, metrics.events());
        }
    }

    /** The built-in task's generated problems, or the user's JSONL file (an empty file is an error). */
    private TaskDataset dataset() {
        if (config.dataset() != null) {
            List<org.rollstream.tasks.TaskInstance> all = JsonlDataset.read(config.dataset(), tasks);
            return TaskDataset.of(config.dataset().getFileName().toString(), all, config.seed(),
                    TaskDataset.DEFAULT_HELD_OUT_SHARE);
        }
        return TaskDataset.generated(tasks.resolve(config.task()), config.seed(), 10_000, config.evalSize());
    }

    private void coldStart(DjlPolicy policy, TaskDataset dataset) {
        progress.set(Progress.sft(0, config.coldStart().steps(), Double.NaN));
        ColdStart cs = config.coldStart();
        ColdStartData data = new ColdStartData(tasks, cs.flawedShare(), cs.answerOnlyShare(), config.seed());
        List<SftExample> examples = data.generate(dataset, cs.steps() * cs.batch());
        if (examples.isEmpty()) {
            throw new IllegalStateException("cold-start data for task " + config.task() + " is empty");
        }
        try (NDManager optNd = NDManager.newBaseManager()) {
            AdamW sftOptimizer = AdamW.standard(optNd, 0.0);
            SftTrainer sft = new SftTrainer(policy, tokenizer, sftOptimizer, 1.0);
            Random rnd = new Random(config.seed());
            for (int i = 0; i < cs.steps() && !stopping.get(); i++) {
                List<SftTrainer.Pair> pairs = new ArrayList<>(cs.batch());
                for (int j = 0; j < cs.batch(); j++) {
                    SftExample ex = examples.get(rnd.nextInt(examples.size()));
                    pairs.add(new SftTrainer.Pair(ex.prompt(), ex.completion()));
                }
                // cosine decay: the cold start should settle, not end on a large step
                double lr = cs.learningRate() * 0.5 * (1 + Math.cos(Math.PI * i / cs.steps()));
                double loss = sft.step(pairs, lr);
                if ((i + 1) % 25 == 0 || i + 1 == cs.steps()) {
                    metrics.record("sft", i + 1, Map.of("sft_loss", loss, "sft_lr", lr));
                    progress.set(Progress.sft(i + 1, cs.steps(), loss));
                }
            }
        }
    }

    private void publishVersion(DjlPolicy policy, long version, long step) {
        try {
            Files.createDirectories(config.weightsDir());
            Path file = config.weightsDir().resolve(String.format("v%06d.safetensors", version));
            WeightSnapshot snap = WeightSnapshot.write(file, policy.exportWeights(), config.spec(), version, step, false);
            PolicyVersion pv = PolicyVersion.newBuilder().setPolicy(config.policyName()).setVersion(version).setStep(step)
                    .setWeightsLocation(snap.path().toAbsolutePath().toString()).setSha256(snap.sha256())
                    .setCreatedAtMs(System.currentTimeMillis()).setSpec(config.spec().toJson()).build();
            producer.send(Topics.POLICY_VERSIONS, config.policyName(), pv, VERSION::encode).block(Duration.ofSeconds(30));
            // version 0 (the cold start, the KL reference) is kept; older published versions are not needed
            if (version - KEEP_SNAPSHOTS > 0) {
                Files.deleteIfExists(config.weightsDir().resolve(String.format("v%06d.safetensors", version - KEEP_SNAPSHOTS)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write policy snapshot", e);
        }
    }

    private void recordEval(long step, Evaluator.Result e) {
        metrics.record("eval", step, Map.of("heldout_accuracy", e.accuracy(), "heldout_format", e.formatRate(),
                "heldout_response_length", e.meanResponseTokens()));
    }

    private void setProgress(String phase, long step, long version, double reward, double acc, double kl,
                             double staleness, double tps, long dropped, long dups, long skipped) {
        progress.set(new Progress(phase, step, config.grpoSteps(), version, Double.NaN, reward, acc, kl, staleness, tps, dropped,
                dups, skipped));
    }

    private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer) {
        List<PartitionInfo> infos = consumer.partitionsFor(Topics.ROLLOUTS_SCORED, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("topic " + Topics.ROLLOUTS_SCORED + " does not exist; create the topics first");
        }
        return infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
    }

    private static Map<Integer, Long> positions(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> parts) {
        Map<Integer, Long> out = new HashMap<>();
        for (TopicPartition tp : parts) {
            out.put(tp.partition(), consumer.position(tp));
        }
        return out;
    }

    private static Map<String, NDArray> toArrays(NDManager nd, Weights w) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        w.tensors().forEach((k, t) -> out.put(k, nd.create(t.data(), new Shape(t.shape()))));
        return out;
    }

    private static Weights fromArrays(Map<String, NDArray> arrays) {
        Weights w = new Weights();
        arrays.forEach((k, a) -> w.put(k, a.getShape().getShape(), a.toFloatArray()));
        return w;
    }

    @Override
    public void close() {
        stop();
        metrics.close();
        deadLetters.close();
        producer.close();
    }
}
