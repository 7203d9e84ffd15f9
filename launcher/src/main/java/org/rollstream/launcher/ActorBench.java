package org.rollstream.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.rollstream.actor.ActorConfig;
import org.rollstream.actor.ActorService;
import org.rollstream.actor.SamplerChoice;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ort.Device;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.launcher.bench.GenerateBenchmark;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "actor", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"A real actor (ActorService) on an embedded broker serving a prompts topic fed by a producer: groups/s and",
                "tokens/s read back from rollouts.sampled over --seconds after a warm-up, with the actor's own sampler and serving",
                "tokens/s, beside `bench generate --sample` (the sampler alone, same shapes, same JVM). Random-init weights of",
                "--preset; prompts are arithmetic tasks padded to --prompt-tokens; the stop token is <eos>."})
final class ActorBench implements Callable<Integer> {
    private static final AvroCodec<Prompt> PROMPTS = AvroCodec.of(Prompt.class);
    private static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    private static final AvroCodec<PolicyVersion> VERSIONS = AvroCodec.of(PolicyVersion.class);
    private static final String RUN = "bench-actor";

    @Option(names = "--preset", defaultValue = "tiny", description = "Model preset: tiny or gpt2-small (default: ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--fp16", description = "The actor (and the comparison) in float16 (CUDA only).")
    boolean fp16;

    @Option(names = "--sampler", defaultValue = "auto", description = "Actor decoding loop: graph, host or auto (default: ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = {"-G", "--group-size"}, defaultValue = "8", description = "Completions per prompt (default: ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--prompts-per-batch", defaultValue = "8", description = "Prompts per sampler batch; batch rows = this x G (default: ${DEFAULT-VALUE}).")
    int promptsPerBatch;

    @Option(names = "--prompt-tokens", defaultValue = "16", description = "Prompt length in tokens, <bos> included (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "48", description = "Completion length limit (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--temperature", defaultValue = "1", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus mass (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--warmup-batches", defaultValue = "3", description = "Batches published before the window opens (default: ${DEFAULT-VALUE}).")
    int warmupBatches;

    @Option(names = "--seconds", defaultValue = "60", description = "Measurement window after the warm-up (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--bench-runs", defaultValue = "5", description = "Runs of the in-process `bench generate --sample` comparison; 0 skips it (default: ${DEFAULT-VALUE}).")
    int benchRuns;

    @Override
    public Integer call() throws Exception {
        if (groupSize < 1 || promptsPerBatch < 1 || promptTokens < 2 || newTokens < 1 || seconds < 1 || warmupBatches < 0 || benchRuns < 0) {
            throw new UsageException("-G, --prompts-per-batch, --new-tokens, --seconds must be >= 1, --prompt-tokens >= 2, "
                    + "--warmup-batches and --bench-runs >= 0");
        }
        ModelSpec spec;
        ActorConfig config;
        try {
            spec = ModelSpec.preset(preset);
            config = ActorConfig.defaults("bench-actor").withSampling(groupSize, temperature, topP, newTokens)
                    .withPromptsPerBatch(promptsPerBatch).withDevice(device).withSampler(SamplerChoice.parse(sampler)).withFp16(fp16);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (promptTokens + newTokens > spec.contextLength()) {
            throw new UsageException("--prompt-tokens + --new-tokens exceed the context of " + spec.contextLength());
        }
        PrintStream out = System.out;
        int rows = groupSize * promptsPerBatch;
        Device dev = Device.parse(device);
        SamplerChoice loop = config.effectiveSampler();
        out.printf("bench actor: preset=%s params=%,d device=%s fp16=%s sampler=%s G=%d prompts/batch=%d (batch %d rows) prompt=%d new=%d T=%s top-p=%s%n",
                preset, spec.parameterCount(), device, fp16, loop, groupSize, promptsPerBatch, rows, promptTokens, newTokens,
                temperature, topP);

        List<GenerateBenchmark.SampleResult> reference = List.of();
        if (benchRuns > 0) { // the sampler alone, same shapes, before the actor holds the device
            out.println("--- bench generate --sample, same shapes, same JVM:");
            reference = GenerateBenchmark.runSampling(spec, rows, promptTokens, newTokens, dev, benchRuns, fp16, dev.isCuda(),
                    temperature, new float[]{topP}, 0, org.rollstream.policy.SampleRequest.DEFAULT_NUCLEUS_CAP,
                    loop == SamplerChoice.HOST, false, out);
        }
        Tokenizer tokenizer = tokenizerFor(spec);
        Path dir = Files.createTempDirectory("rollstream-bench-actor");
        Window w;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(null)) {
            KafkaSettings settings = KafkaSettings.of(kafka.bootstrapServers());
            try (TopicAdmin admin = new TopicAdmin(settings)) {
                admin.ensureTopics(Topics.all(2));
            }
            w = serve(settings, spec, config, tokenizer, dir, out);
        } finally {
            deleteTree(dir);
        }
        out.println("--- summary");
        out.printf("actor, rollouts.sampled over %.1f s: %.2f groups/s, %,.1f tokens/s (%d groups, %,d tokens)%n",
                w.seconds, w.groups / w.seconds, w.tokens / w.seconds, w.groups, w.tokens);
        out.printf("actor stats in the window: sampler %,.1f tokens/s (tokens / time inside the sampler), serving %,.1f tokens/s%n",
                w.samplerTokensPerSecond, w.servingTokensPerSecond);
        out.printf("actor stats, whole run (warm-up included): %s%n", w.stats);
        if (!reference.isEmpty()) {
            GenerateBenchmark.SampleResult ref = reference.get(reference.size() - 1);
            double base = ref.median();
            out.printf("bench generate --sample (%s, median of %d): %,.1f tokens/s%n", ref.label(), benchRuns, base);
            out.printf("ratio to the benchmark: actor sampler %.1f%%, actor on the topic %.1f%%%n",
                    100 * w.samplerTokensPerSecond / base, 100 * (w.tokens / w.seconds) / base);
        }
        return 0;
    }

    /** What the consumer of rollouts.sampled saw in the measurement window. */
    record Window(double seconds, long groups, long tokens, double samplerTokensPerSecond, double servingTokensPerSecond, String stats) {
    }

    private Window serve(KafkaSettings settings, ModelSpec spec, ActorConfig config, Tokenizer tokenizer, Path dir, PrintStream out)
            throws Exception {
        WeightSnapshot snap = WeightSnapshot.write(dir, DjlPolicy.initialWeights(spec, 11), spec, 1, 0);
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "bench-actor-feed");
             KafkaConsumer<byte[], byte[]> sampled = sampledConsumer(settings)) {
            PolicyVersion v = PolicyVersion.newBuilder().setPolicy(config.policyName()).setRunId(RUN).setVersion(1).setStep(0)
                    .setWeightsLocation(snap.path().toString()).setSha256(snap.sha256()).setCreatedAtMs(System.currentTimeMillis())
                    .setSpec(spec.toJson()).build();
            producer.send(Topics.POLICY_VERSIONS, config.policyName(), VERSIONS.encode(v)).block(Duration.ofSeconds(30));
            AtomicLong seen = new AtomicLong();
            AtomicBoolean done = new AtomicBoolean();
            AtomicReference<Throwable> feedError = new AtomicReference<>();
            Thread feeder = new Thread(() -> feed(producer, config, tokenizer, seen, done, feedError), "bench-actor-feeder");
            feeder.setDaemon(true);
            long t0 = System.nanoTime();
            try (ActorService actor = ActorService.start(settings, config, tokenizer)) {
                feeder.start();
                long warm = (long) warmupBatches * promptsPerBatch;
                long startNs = 0, lastNs = 0, groups = 0, tokens = 0, startCount = -1;
                double samplerTok0 = 0, samplerSec0 = 0, servingTok0 = 0, servingSec0 = 0;
                long deadline = Long.MAX_VALUE, lastProgress = System.nanoTime();
                long windowEndCount = -1;
                while (true) {
                    if (actor.failure().isPresent()) throw new IllegalStateException("actor failed", actor.failure().get());
                    if (feedError.get() != null) throw new IllegalStateException("prompt feed failed", feedError.get());
                    if (System.nanoTime() - lastProgress > Duration.ofSeconds(300).toNanos()) {
                        throw new IllegalStateException("no sampled group for 300 s: " + actor.stats());
                    }
                    for (ConsumerRecord<byte[], byte[]> r : sampled.poll(Duration.ofMillis(100))) {
                        long now = System.nanoTime();
                        lastProgress = now;
                        SampledGroup g = SAMPLED.decode(r.value());
                        long n = seen.incrementAndGet();
                        long t = 0;
                        for (Completion c : g.getCompletions()) t += c.getTokenIds().size();
                        if (n == warm) { // the window opens when the warm-up's last batch is on the topic
                            startNs = now;
                            startCount = n;
                            samplerTok0 = actor.stats().tokensGenerated();
                            samplerSec0 = actor.stats().samplingSeconds();
                            servingTok0 = actor.stats().tokensPublished();
                            servingSec0 = actor.stats().servingSeconds();
                            deadline = now + Duration.ofSeconds(seconds).toNanos();
                            out.printf("  warm-up: %d groups in %.1f s; measuring %d s%n", n, (now - t0) / 1e9, seconds);
                        } else if (startCount >= 0 && n > startCount) {
                            groups++;
                            tokens += t;
                            lastNs = now;
                            // close on a batch boundary once the window has passed: whole batches only
                            if (now >= deadline && (n - startCount) % promptsPerBatch == 0) windowEndCount = n;
                        }
                        if (windowEndCount > 0) break;
                    }
                    if (warm == 0 && startCount < 0) { // no warm-up: open at once
                        startNs = System.nanoTime();
                        startCount = 0;
                        deadline = startNs + Duration.ofSeconds(seconds).toNanos();
                    }
                    if (windowEndCount > 0) break;
                }
                double samplerTok = actor.stats().tokensGenerated() - samplerTok0;
                double samplerSec = actor.stats().samplingSeconds() - samplerSec0;
                double servingTok = actor.stats().tokensPublished() - servingTok0;
                double servingSec = actor.stats().servingSeconds() - servingSec0;
                done.set(true);
                Window w = new Window((lastNs - startNs) / 1e9, groups, tokens, samplerTok / samplerSec, servingTok / servingSec,
                        actor.stats().toString());
                actor.stop(Duration.ofSeconds(60));
                return w;
            } finally {
                done.set(true);
                feeder.join(10_000);
            }
        }
    }

    /** Keeps about four batches of prompts ahead of what has come back, so the actor never waits for input. */
    private void feed(ReactiveProducer producer, ActorConfig config, Tokenizer tokenizer, AtomicLong seen, AtomicBoolean done,
                      AtomicReference<Throwable> error) {
        Random rnd = new Random(5);
        TaskRegistry tasks = TaskRegistry.defaults();
        long sent = 0;
        try {
            while (!done.get()) {
                if (sent - seen.get() >= 4L * promptsPerBatch) {
                    Thread.sleep(5);
                    continue;
                }
                TaskInstance t = tasks.resolve("arithmetic").sample(rnd);
                Prompt p = Prompt.newBuilder().setId("bench-" + sent).setTask(t.task()).setText(padded(t.text(), tokenizer))
                        .setAnswer(t.answer()).setFields(new HashMap<>(t.fields())).setPolicy(config.policyName()).setRunId(RUN)
                        .setMinPolicyVersion(1).build();
                producer.send(Topics.PROMPTS, p.getId().toString(), PROMPTS.encode(p)).block(Duration.ofSeconds(30));
                sent++;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            error.set(e);
        }
    }

    /** The task text after a filler instruction, cut from the left to exactly --prompt-tokens tokens with {@code <bos>}. */
    private String padded(String text, Tokenizer tokenizer) {
        StringBuilder b = new StringBuilder();
        while (b.length() < promptTokens + text.length()) b.append("Work it out step by step, then answer. ");
        String s = b.append(text).toString();
        String cut = s.substring(Math.max(0, s.length() - (promptTokens - 1)));
        int n = PromptTokens.encode(tokenizer, cut).length;
        if (n != promptTokens) throw new IllegalStateException("padded prompt has " + n + " tokens, not " + promptTokens + ": " + cut);
        return cut;
    }

    private static KafkaConsumer<byte[], byte[]> sampledConsumer(KafkaSettings settings) {
        Properties p = settings.consumerProps("bench-actor-reader");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer());
        c.subscribe(List.of(Topics.ROLLOUTS_SAMPLED));
        return c;
    }

    /** The built-in tokenizer; for a wider model (gpt2-small's 50,257) the same ids, the others decoding to a placeholder. */
    static Tokenizer tokenizerFor(ModelSpec spec) {
        Tokenizer base = CharTokenizer.builtin();
        if (spec.vocabSize() == base.vocabSize()) return base;
        if (spec.vocabSize() < base.vocabSize()) throw new UsageException("preset vocabulary " + spec.vocabSize() + " is below the built-in tokenizer's");
        return new WideTokenizer(base, spec.vocabSize());
    }

    /** The built-in characters at their ids inside a larger vocabulary; ids beyond them decode to '·'. */
    record WideTokenizer(Tokenizer base, int vocabSize) implements Tokenizer {
        @Override
        public int[] encode(String text) {
            return base.encode(text);
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder b = new StringBuilder();
            List<Integer> run = new ArrayList<>();
            for (int id : ids) {
                if (id < base.vocabSize()) {
                    run.add(id);
                    continue;
                }
                b.append(base.decode(run.stream().mapToInt(Integer::intValue).toArray())).append('·');
                run.clear();
            }
            return b.append(base.decode(run.stream().mapToInt(Integer::intValue).toArray())).toString();
        }

        @Override
        public int bos() {
            return base.bos();
        }

        @Override
        public int eos() {
            return base.eos();
        }

        @Override
        public int pad() {
            return base.pad();
        }

        @Override
        public OptionalInt special(String token) {
            return base.special(token);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
