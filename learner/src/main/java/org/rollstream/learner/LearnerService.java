package org.rollstream.learner;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
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
import org.apache.kafka.common.TopicPartition;
import org.rollstream.learner.eval.Evaluator;
import org.rollstream.learner.grpo.DynamicSampling;
import org.rollstream.learner.grpo.GrpoTrainer;
import org.rollstream.learner.grpo.TrainingGroup;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.learner.sft.SftTrainer;
import org.rollstream.learner.state.DropReason;
import org.rollstream.learner.state.LearnerState;
import org.rollstream.learner.state.RunIdentity;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.AuditKind;
import org.rollstream.schemas.records.MetricEvent;
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
import org.rollstream.transport.errors.BadRecordException;
import org.rollstream.transport.time.Time;
import org.rollstream.transport.weights.KafkaWeightStore;
import org.rollstream.transport.weights.WeightStore;
import org.rollstream.transport.weights.WeightsSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The learner process: cold-start SFT, then GRPO on {@code rollouts.scored}, publishing a policy
 * version after every k steps, evaluating, checkpointing, and feeding prompts within the
 * staleness bound. {@link #run()} blocks until the configured steps are done or {@link #stop()}.
 *
 * <p>The bookkeeping is one state machine, {@link LearnerState}, saved with the weights in every
 * checkpoint together with the consumed offsets of {@code rollouts.scored} (never committed to a
 * consumer group). After a crash the learner resumes from the latest checkpoint as a new incarnation:
 * it publishes a version above any published before, issues again the prompts that were open, and
 * re-reads the groups that were buffered but not trained. Every step writes a {@code StepAudit} record
 * naming the groups it trained and the prompts it dropped, so exactly-once can be checked from the log.
 *
 * <p>{@link #stop()} (Ctrl-C, SIGTERM) ends the loop between steps; {@link #run()} then writes a
 * checkpoint of where it stands and returns the summary, so the next start resumes there.
 */
public final class LearnerService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LearnerService.class);
    private static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);
    private static final AvroCodec<MetricEvent> METRIC = AvroCodec.of(MetricEvent.class);
    /** Steps averaged for the summary's first and last reward. */
    public static final int REWARD_WINDOW = 10;

    private final KafkaSettings kafka;
    private final LearnerConfig config;
    private final Tokenizer tokenizer;
    private final TaskRegistry tasks;
    private final ReactiveProducer producer;
    private final DeadLetterPublisher deadLetters;
    private final LearnerTopics topics;
    private final Consumer<MetricEvent> metricListener;
    private final Time time;
    private final TaskDataset dataset;
    /** Opened by {@link #run()} once it knows whether it resumes (a resume keeps the rows up to its step). */
    private MetricsLog metrics;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile WeightsSettings weights = WeightsSettings.defaults();
    private WeightStore remoteWeights; // guarded by this; opened with the first session that needs it
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
     * What a run reports, over the whole run however often it was resumed. {@code coldStartAccuracy} is the
     * held-out accuracy when GRPO first began. {@code firstReward} and {@code lastReward} are mean step rewards
     * over the first and last {@value LearnerService#REWARD_WINDOW} steps. {@code dropped} counts stale groups,
     * {@code skipped} uninformative ones, {@code invalidPrompts} prompts whose group was dead-lettered,
     * {@code deadLettered} records this learner dead-lettered, {@code runEnded} prompts still open at the last
     * step; {@code complete} is false after a stop before the last step.
     */
    public record Summary(long steps, double coldStartAccuracy, double finalAccuracy, double firstReward,
                          double lastReward, long dropped, long duplicates, long skipped, long timedOutPrompts,
                          double seconds, long grpoStartMs, double grpoSeconds, double trainSeconds,
                          double evalSeconds, long groupsTrained, List<MetricEvent> metrics, long invalidPrompts,
                          long deadLettered, long runEnded, String runId, long incarnation, long restarts,
                          double resumeSeconds, boolean complete) {
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
        this(kafka, config, tokenizer, tasks, metricListener, Time.SYSTEM);
    }

    public LearnerService(KafkaSettings kafka, LearnerConfig config, Tokenizer tokenizer, TaskRegistry tasks,
                          Consumer<MetricEvent> metricListener, Time time) {
        this.kafka = kafka;
        this.time = time;
        this.config = config;
        this.tokenizer = tokenizer;
        this.tasks = tasks;
        this.dataset = dataset(); // an unknown task or a bad dataset file fails here, before any work
        this.producer = ReactiveProducer.create(kafka, "learner-" + config.runId());
        this.deadLetters = new DeadLetterPublisher(kafka, producer, "learner/" + config.runId());
        Consumer<MetricEvent> toTopic = e -> producer.send(Topics.METRICS, "learner/" + config.runId(), METRIC.encode(e))
                .subscribe(m -> { }, err -> LOG.warn("metric not published: {}", err.toString()));
        this.metricListener = metricListener == null ? toTopic : toTopic.andThen(metricListener);
        this.topics = new LearnerTopics(kafka, producer);
    }

    /**
     * Where and how to publish weights (default: files in the run directory, fp32, unsigned); call
     * before {@link #run()}.
     */
    public LearnerService weights(WeightsSettings settings) {
        this.weights = java.util.Objects.requireNonNull(settings, "weights");
        return this;
    }

    private synchronized WeightStore remoteWeights() {
        if (weights.store() == WeightsSettings.Store.KAFKA && remoteWeights == null) {
            remoteWeights = new KafkaWeightStore(kafka, "learner-" + config.runId());
        }
        return remoteWeights;
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
        try (NDManager nd = NDManager.newBaseManager(config.compute().device().resolve());
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka.consumerProps("learner-" + config.runId()))) {
            Session session = new Session(nd, consumer, heldOut);
            try {
                session.begin();
                while (session.state.step() < config.grpoSteps() && !stopping.get()) {
                    session.feed();
                    session.receive(consumer.poll(Duration.ofMillis(100)));
                    session.state.expire();
                    LearnerState.Batch batch = session.state.nextBatch();
                    if (batch != null) {
                        session.train(batch);
                    }
                }
                return session.finish();
            } finally {
                session.publisher.close();
            }
        }
    }

    /** One run of {@link #run()}: model, optimizer, the state machine and the Kafka side around it. */
    private final class Session {
        private final long startedNs = time.nanoseconds();
        private final NDManager nd;
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final List<TaskInstance> heldOut;
        private final List<TopicPartition> partitions;
        private final Evaluator evaluator = new Evaluator(tokenizer, tasks, config.maxNewTokens());
        private final Checkpoints checkpoints = new Checkpoints(config.checkpointsDir());
        private final ScoredGroupValidator validator = new ScoredGroupValidator(config.spec());
        private final RunIdentity identity = RunIdentity.claim(config.runDir(), config.runId());
        private final LearnerState state = new LearnerState(identity, config.grpo().groupsPerStep(),
                config.grpo().maxStaleness(), config.grpo().samplingLag(), config.grpo().dynamicSampling(),
                config.promptTimeoutMs(), time);
        private final PromptSource prompts = new PromptSource(identity, config.policyName(), dataset);
        private final PolicyPublisher publisher = new PolicyPublisher(config.weightsDir(), config.policyName(),
                config.spec(), identity, producer, time, weights, remoteWeights());
        private final DjlPolicy policy;
        private final AdamW optimizer;
        private DjlPolicy reference;
        private GrpoTrainer trainer;
        private RunTotals totals = RunTotals.start();
        private double lastAccuracy = Double.NaN;
        private long grpoStartNs;
        private long lastStepEndNs; // when the previous step's weights were out (0: none yet)
        private double rewardSum;
        private long rewardGroups;
        /** Per reward component over the completions received since the last step: sum, count, count above 0. */
        private final Map<String, double[]> componentStats = new java.util.TreeMap<>();
        private long invalidGroups;
        /** False while the cold start is unfinished: a stop then must not checkpoint a half-trained model. */
        private boolean grpoReady;

        Session(NDManager nd, KafkaConsumer<byte[], byte[]> consumer, List<TaskInstance> heldOut) {
            this.nd = nd;
            this.consumer = consumer;
            this.heldOut = heldOut;
            this.partitions = LearnerTopics.partitions(consumer, Topics.ROLLOUTS_SCORED);
            consumer.assign(partitions);
            this.policy = new DjlPolicy(config.spec(), nd, config.seed()).computePrecision(config.compute().precision());
            this.optimizer = AdamW.standard(nd, config.grpo().weightDecay());
        }

        /**
         * Resumes from the latest checkpoint, or starts fresh (initial weights or cold start, then a step-0
         * checkpoint so a crash never repeats the cold start); then publishes the next version above every
         * version any incarnation published, and issues again every prompt the checkpoint had open.
         */
        void begin() {
            var resumed = checkpoints.latest();
            if (resumed.isPresent()) {
                restore(resumed.get());
            } else {
                metrics = MetricsLog.open(config.metricsCsv(), identity.runId(), metricListener, -1);
                consumer.seekToEnd(partitions);
                partitions.forEach(consumer::position); // pin the start before any prompt is issued
                if (identity.incarnation() > 0) {
                    // a crashed first start that never checkpointed may have issued prompts: account for them
                    // (a first start has a run id nobody used, so there is nothing to scan for)
                    topics.scanIssued(Map.of(), identity.runId(), state::sawIssued);
                }
                if (config.initWeights() != null) {
                    WeightSnapshot init = WeightSnapshot.open(config.initWeights());
                    if (!init.spec().equals(config.spec())) {
                        throw new IllegalStateException("initial weights " + config.initWeights() + " are for "
                                + init.spec() + ", not " + config.spec());
                    }
                    policy.loadWeights(init.load());
                } else if (config.coldStart().steps() > 0) {
                    coldStart(policy, dataset);
                }
                if (config.grpo().klBeta() > 0) {
                    reference = new DjlPolicy(config.spec(), nd, policy.exportWeights())
                            .computePrecision(config.compute().precision());
                }
            }
            if (resumed.isEmpty() && stopping.get()) {
                return; // stopped during the cold start: nothing is published, the next start begins again
            }
            state.sawPublished(publisher.highestOnDisk());
            long version = state.publish();
            publisher.publish(policy.exportWeights(), version, state.step());
            reissueOpenPrompts(version);
            trainer = new GrpoTrainer(policy, reference, optimizer, config.grpo(), tokenizer.pad())
                    .microBatchSize(config.compute().microBatchSize()).lossScale(config.compute().newLossScale());
            if (resumed.isEmpty()) {
                Evaluator.Result first = evaluate();
                totals = totals.withGrpoStart(first.accuracy(), time.milliseconds());
                checkpoint();
            } else {
                totals = totals.withResume((time.nanoseconds() - startedNs) / 1e9);
                LOG.info("resumed {} at step {} as incarnation {} in {} ms; publishing v{}", identity.runId(), state.step(),
                        identity.incarnation(), (time.nanoseconds() - startedNs) / 1_000_000, version);
            }
            grpoStartNs = time.nanoseconds();
            grpoReady = true;
            setProgress("grpo", Double.NaN, Double.NaN, 0, 0);
        }

        private void restore(Checkpoints.Loaded c) {
            LOG.info("resuming from {}", c.path());
            LearnerState.Snapshot snap = c.state().learner();
            policy.loadWeights(c.policy());
            if (c.reference() != null) {
                reference = new DjlPolicy(config.spec(), nd, c.reference()).computePrecision(config.compute().precision());
            }
            optimizer.restore(toArrays(nd, c.optimizer()), c.state().optimizerSteps());
            state.restore(snap);
            totals = c.state().totals();
            metrics = MetricsLog.open(config.metricsCsv(), identity.runId(), metricListener, state.step());
            lastAccuracy = lastEval(metrics.events());
            for (TopicPartition tp : partitions) {
                Long off = snap.offsets().get(tp.partition());
                if (off != null) {
                    consumer.seek(tp, off);
                } else {
                    consumer.seekToBeginning(List.of(tp));
                }
            }
            // prompts a crashed incarnation issued after this checkpoint: the run must end them all
            topics.scanIssued(snap.promptOffsets(), identity.runId(), state::sawIssued);
        }

        /** Prompts open at the checkpoint go out again: their groups may have been sampled by abandoned weights. */
        private void reissueOpenPrompts(long version) {
            List<Prompt> again = new ArrayList<>();
            long now = time.milliseconds();
            state.openPrompts().forEach((id, index) -> again.add(prompts.prompt(index, version, version, now)));
            topics.issue(again);
        }

        /** Publishes prompts into the room the capacity rule gives now. */
        void feed() {
            long room = state.room();
            if (room <= 0) {
                return;
            }
            long version = state.version();
            // sampled by at least the version current now (or, with a sampling lag a, one at most a updates
            // older): with capacity (η−a+v+1)·B it is then trained within η updates, so almost nothing goes stale
            long minVersion = state.minSamplingVersion();
            long now = time.milliseconds();
            List<Prompt> out = new ArrayList<>();
            for (long i = 0; i < room; i++) {
                long index = state.cursor();
                state.issueNext();
                out.add(prompts.prompt(index, version, minVersion, now));
            }
            topics.issue(out);
        }

        /** Validates, deduplicates and buffers scored groups; what cannot be trained is dead-lettered and counted. */
        void receive(ConsumerRecords<byte[], byte[]> records) {
            for (ConsumerRecord<byte[], byte[]> r : records) {
                ScoredGroup sg;
                try {
                    sg = SCORED.decode(r.value());
                } catch (RecordDecodeException e) {
                    deadLetters.publish(r, DeadLetterPublisher.STAGE_DECODE, e).block(Duration.ofSeconds(30));
                    invalidGroups++;
                    continue;
                }
                Prompt p = sg.getGroup().getPrompt();
                String promptId = p.getId().toString();
                if (!promptId.startsWith(identity.runId() + "/")) {
                    continue; // another run's group on a shared cluster
                }
                TrainingGroup g;
                try {
                    g = validator.validate(sg);
                } catch (BadRecordException e) {
                    deadLetters.publish(r, DeadLetterPublisher.STAGE_PROCESS, e).block(Duration.ofSeconds(30));
                    invalidGroups++;
                    state.invalid(promptId, sg.getGroup().getGroupId().toString(), sg.getGroup().getPolicyVersion());
                    continue;
                }
                String runOfWeights = sg.getGroup().getPolicyRunId().toString();
                boolean ours = runOfWeights.isEmpty() || runOfWeights.equals(identity.runId());
                if (state.receive(promptId, g, ours, DynamicSampling.informative(g.rewards()), r.partition(), r.offset())
                        != LearnerState.Receipt.DUPLICATE) {
                    rewardSum += g.meanReward();
                    rewardGroups++;
                    for (var score : sg.getScores()) {
                        score.getComponents().forEach((name, value) -> {
                            double[] c = componentStats.computeIfAbsent(name.toString(), k -> new double[3]);
                            c[0] += value;
                            c[1]++;
                            c[2] += value > 0 ? 1 : 0;
                        });
                    }
                }
            }
        }

        /** One GRPO step on {@code batch}, then publishing, audit, metrics, evaluation and checkpoint as configured. */
        void train(LearnerState.Batch batch) {
            List<TrainingGroup> groups = batch.groups();
            long t0 = time.nanoseconds();
            // the learner's time since the previous step's weights went out: its audit, metrics, evaluation and
            // checkpoint, then receiving, decoding and buffering groups, or idle waiting for them
            double waitSec = (t0 - (lastStepEndNs != 0 ? lastStepEndNs : grpoStartNs)) / 1e9;
            GrpoTrainer.StepStats s = trainer.step(groups);
            double trainSec = (time.nanoseconds() - t0) / 1e9;
            double staleness = groups.stream().mapToLong(g -> state.staleness(g.policyVersion())).average().orElse(0);
            state.trained(batch);
            long step = state.step();
            long p0 = time.nanoseconds();
            if (step % config.grpo().publishEvery() == 0) {
                long v = state.publish();
                // copied now where the weights live (the next step changes them); moved to the host, encoded and
                // announced on the publisher's thread
                publisher.publishInBackground(policy.snapshot(), v, step);
            }
            lastStepEndNs = time.nanoseconds();
            double publishSec = (lastStepEndNs - p0) / 1e9;
            topics.audit(state.audit(AuditKind.STEP));
            double reward = rewardGroups == 0 ? s.meanReward() : rewardSum / rewardGroups;
            rewardSum = 0;
            rewardGroups = 0;
            totals = totals.withStep(reward, s.completionTokens(), trainSec);
            double tps = totals.trainedTokens() / Math.max(totals.grpoSeconds() + (time.nanoseconds() - grpoStartNs) / 1e9, 1e-9);
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("reward", reward);
            m.put("reward_trained", s.meanReward());
            // each reward component as received since the last step: its mean, and the share of completions
            // it credited at all (e.g. reward_reflection_share: completions with a verified reflection step)
            componentStats.forEach((name, c) -> {
                m.put("reward_" + name, c[0] / c[1]);
                m.put("reward_" + name + "_share", c[2] / c[1]);
            });
            componentStats.clear();
            m.put("loss", s.loss());
            m.put("kl", s.kl());
            m.put("clip_fraction", s.clipFraction());
            m.put("importance_weight", s.importanceWeight());
            m.put("importance_weight_max", s.importanceWeightMax());
            m.put("importance_weight_capped", s.cappedWeightFraction());
            m.put("mismatch_kl", s.mismatchKl());
            m.put("truncated_tokens", s.truncatedTokenFraction());
            m.put("ratio_min", s.ratioMin());
            m.put("ratio_max", s.ratioMax());
            m.put("optimizer_steps", (double) s.optimizerSteps());
            m.put("grad_norm", s.gradNorm());
            m.put("response_length", (double) s.completionTokens() / s.sequences());
            m.put("staleness", staleness);
            m.put("dropped_stale", (double) state.dropped(DropReason.STALE));
            m.put("dropped_timed_out", (double) state.dropped(DropReason.TIMED_OUT));
            m.put("dropped_invalid", (double) state.dropped(DropReason.INVALID));
            m.put("duplicates", (double) state.duplicates());
            m.put("skipped_uninformative", (double) state.dropped(DropReason.UNINFORMATIVE));
            m.put("skipped_nonfinite", (double) trainer.skippedSteps());
            m.put("tokens_per_s", tps);
            // where the learner's wall time goes: the GRPO step itself, handing weights out (a copy of the parameters
            // where they live; the rest is on the publisher's thread), and everything else
            // (waiting for groups, evaluations, checkpoints); from step 2 on the three add up to the time between steps
            m.put("train_seconds", trainSec);
            m.put("publish_seconds", publishSec);
            m.put("wait_seconds", waitSec);
            m.put("versions_skipped", (double) publisher.skipped());
            m.put("in_flight", (double) state.inFlight());
            m.put("buffered", (double) state.buffered());
            m.put("version", (double) state.version());
            metrics.record("train", step, m);

            if (step % config.evalEvery() == 0 || step == config.grpoSteps()) {
                evaluate();
            }
            if (step % config.checkpointEvery() == 0 || step == config.grpoSteps()) {
                if (step == config.grpoSteps()) {
                    state.endRun(); // nothing may stay open once the run has its last step
                    topics.audit(state.audit(AuditKind.END));
                }
                checkpoint();
            }
            setProgress("grpo", reward, s.kl(), staleness, tps);
        }

        private Evaluator.Result evaluate() {
            long e0 = time.nanoseconds();
            Evaluator.Result e = evaluator.evaluate(policy, heldOut);
            totals = totals.withEval((time.nanoseconds() - e0) / 1e9);
            lastAccuracy = e.accuracy();
            recordEval(state.step(), e);
            return e;
        }

        private void checkpoint() {
            RunTotals withWall = wallTotals();
            checkpoints.save(new Checkpoints.State(state.step(), state.version(), identity.incarnation(),
                            state.snapshot(positions(), LearnerTopics.promptEnds(consumer)), withWall, optimizer.steps(),
                            config.spec().toJson(), config.toString()),
                    policy.exportWeights(), reference == null ? null : reference.exportWeights(),
                    fromArrays(optimizer.state()));
        }

        /** Totals with this incarnation's wall time so far added. */
        private RunTotals wallTotals() {
            double sec = (time.nanoseconds() - startedNs) / 1e9;
            double grpoSec = grpoStartNs == 0 ? 0 : (time.nanoseconds() - grpoStartNs) / 1e9;
            return totals.plusWall(sec, grpoSec);
        }

        /** On a stop before the last step: a checkpoint of where it stands, so the next start resumes here. */
        Summary finish() {
            publisher.awaitPublished(); // the last version is out before the run reports
            if (state.step() < config.grpoSteps() && grpoReady) {
                checkpoint(); // a stop: keep everything, including outcomes not yet audited
            }
            RunTotals t = wallTotals();
            List<Double> rewards = t.stepRewards();
            double last = windowMean(rewards, rewards.size() - REWARD_WINDOW, rewards.size());
            setProgress(state.step() >= config.grpoSteps() ? "done" : "stopped", last, Double.NaN, 0, 0);
            return new Summary(state.step(), t.coldStartAccuracy(), lastAccuracy, windowMean(rewards, 0, REWARD_WINDOW), last,
                    state.dropped(DropReason.STALE), state.duplicates(), state.dropped(DropReason.UNINFORMATIVE),
                    state.dropped(DropReason.TIMED_OUT), t.seconds(), t.grpoStartMs(), t.grpoSeconds(), t.trainSeconds(),
                    t.evalSeconds(), state.trainedPrompts(), metrics.events(), state.dropped(DropReason.INVALID),
                    invalidGroups, state.dropped(DropReason.RUN_ENDED), identity.runId(), identity.incarnation(),
                    t.restarts(), t.resumeSeconds(), state.step() >= config.grpoSteps());
        }

        private Map<Integer, Long> positions() {
            Map<Integer, Long> out = new HashMap<>();
            for (TopicPartition tp : partitions) {
                out.put(tp.partition(), consumer.position(tp));
            }
            return out;
        }

        private void setProgress(String phase, double reward, double kl, double staleness, double tps) {
            progress.set(new Progress(phase, state.step(), config.grpoSteps(), state.version(), Double.NaN, reward,
                    lastAccuracy, kl, staleness, tps, state.dropped(DropReason.STALE), state.duplicates(),
                    state.dropped(DropReason.UNINFORMATIVE)));
        }
    }

    private static double lastEval(List<MetricEvent> events) {
        double acc = Double.NaN;
        for (MetricEvent e : events) {
            Double a = e.getValues().get("heldout_accuracy");
            if ("eval".contentEquals(e.getKind()) && a != null) {
                acc = a;
            }
        }
        return acc;
    }

    /** Mean of {@code values} over [from, to), clamped; one step's reward is too noisy to compare. */
    private static double windowMean(List<Double> values, int from, int to) {
        List<Double> w = values.subList(Math.max(0, from), Math.max(Math.max(0, from), Math.min(values.size(), to)));
        return w.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
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
        ColdStartData data = new ColdStartData(tasks, cs.flawedShare(), cs.answerOnlyShare(), cs.reflectShare(), config.seed());
        List<SftExample> examples = data.generate(dataset, cs.steps() * cs.batch());
        if (examples.isEmpty()) {
            throw new IllegalStateException("cold-start data for task " + config.task() + " is empty");
        }
        try (NDManager optNd = policy.manager().newSubManager()) { // on the policy's device
            AdamW sftOptimizer = AdamW.standard(optNd, 0.0);
            SftTrainer sft = new SftTrainer(policy, tokenizer, sftOptimizer, 1.0)
                    .microBatchSize(config.compute().microBatchSize()).lossScale(config.compute().newLossScale());
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

    private void recordEval(long step, Evaluator.Result e) {
        metrics.record("eval", step, Map.of("heldout_accuracy", e.accuracy(), "heldout_format", e.formatRate(),
                "heldout_response_length", e.meanResponseTokens()));
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
        if (metrics != null) {
            metrics.close();
        }
        deadLetters.close();
        producer.close();
        synchronized (this) {
            if (remoteWeights != null) {
                remoteWeights.close();
            }
        }
    }
}
