package org.rollstream.launcher.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.actor.ActorConfig;
import org.rollstream.actor.ActorService;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.reward.rejection.FilterFunnel;
import org.rollstream.reward.rejection.RejectionFilterService;
import org.rollstream.reward.rejection.RejectionSettings;
import org.rollstream.reward.service.ScorerConfig;
import org.rollstream.reward.service.ScorerService;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;
import org.rollstream.transport.weights.WeightChunks;
import reactor.core.publisher.Flux;

/**
 * Stage 3's sampling job, roles over Kafka as in a run: actors serve fixed weights (announced once
 * on {@code policy.versions} under policy {@value #POLICY} and the job's run id) and sample k
 * completions per prompt; the scorer scores them into {@code rollouts.scored}; the filter role
 * ({@link RejectionFilterService}) keeps the good ones on {@code sft.samples}, and this job writes them
 * to a JSONL file as they come. The job's consumer groups are its own and start at the topics' ends,
 * so nothing an earlier stage left on the topics is sampled, scored or judged again.
 */
final class RejectionSampling {
    static final String POLICY = "rejection-sft";
    private static final AvroCodec<Prompt> PROMPT = AvroCodec.of(Prompt.class);
    private static final AvroCodec<PolicyVersion> VERSION = AvroCodec.of(PolicyVersion.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WRITE = Duration.ofSeconds(30);

    /**
     * One job.
     *
     * @param runId        names the job on every prompt, group and sample
     * @param weights      the safetensors snapshot the actors serve
     * @param prompts      the problems, each sampled once
     * @param groupSize    k, completions per prompt
     * @param temperature  sampling temperature
     * @param maxNewTokens completion budget
     * @param actors       actor threads
     * @param filter       what the filter keeps
     * @param samplesFile  where the kept samples go, one JSON object per line
     * @param stall        give up waiting when no group was judged for this long
     */
    record Job(String runId, Path weights, List<TaskInstance> prompts, int groupSize, float temperature, int maxNewTokens,
               int actors, RejectionSettings filter, Path samplesFile, Duration stall) {
    }

    /** What came of it: the funnel, the kept samples in the order they were kept, and the counts. */
    record Result(FilterFunnel funnel, List<SftSample> samples, int promptsIssued, int promptsJudged, long deadLettered,
                  long tokensGenerated, double seconds) {
    }

    private RejectionSampling() {
    }

    static Result run(KafkaSettings kafka, Job job, PrintStream out) throws IOException {
        long t0 = System.nanoTime();
        kafka.verifyReachable(Duration.ofSeconds(15));
        try (TopicAdmin admin = new TopicAdmin(kafka)) {
            admin.ensureTopics(Topics.all(4));
        }
        String actorGroup = ActorConfig.DEFAULT_GROUP + "-" + POLICY + "-" + job.runId();
        String scorerGroup = ScorerConfig.DEFAULT_GROUP + "-" + POLICY + "-" + job.runId();
        String filterGroup = "rollstream-rejection-filter-" + job.runId();
        startAtEnd(kafka, actorGroup, Topics.PROMPTS);
        startAtEnd(kafka, scorerGroup, Topics.ROLLOUTS_SAMPLED);
        startAtEnd(kafka, filterGroup, Topics.ROLLOUTS_SCORED);

        FilterFunnel funnel = new FilterFunnel();
        List<SftSample> kept = Collections.synchronizedList(new ArrayList<>());
        Files.createDirectories(job.samplesFile().toAbsolutePath().getParent());
        int judged;
        long dead;
        long tokens = 0;
        int issued;
        try (BufferedWriter jsonl = Files.newBufferedWriter(job.samplesFile(), StandardCharsets.UTF_8);
             RejectionFilterService filter = RejectionFilterService.start(kafka, filterGroup, job.runId(), job.filter(), funnel,
                     s -> {
                         kept.add(s);
                         writeLine(jsonl, s);
                     });
             ScorerService scorer = ScorerService.start(kafka, ScorerConfig.defaults(POLICY + "-scorer-" + job.runId())
                     .withConsumerGroup(scorerGroup).withRewards("accuracy=1.0,format=0.1,language=0")
                     .withTargetLanguage(job.filter().language()).withMaxNewTokens(job.maxNewTokens())
                     .withGroupSize(job.groupSize()));
             ReactiveProducer producer = ReactiveProducer.create(kafka, POLICY + "-" + job.runId())) {
            List<ActorService> actors = new ArrayList<>();
            try {
                for (int i = 0; i < job.actors(); i++) {
                    ActorConfig c = ActorConfig.defaults(POLICY + "-actor-" + i).withConsumerGroup(actorGroup).withPolicyName(POLICY)
                            .withSampling(job.groupSize(), job.temperature(), 1.0f, job.maxNewTokens()).withSeed(job.runId().hashCode() + i);
                    actors.add(ActorService.start(kafka, c, CharTokenizer.builtin()));
                }
                announce(producer, job);
                List<Prompt> prompts = prompts(job);
                issued = prompts.size();
                // many unacknowledged at once: one by one, thousands of prompts took longer than any fixed deadline
                Flux.fromIterable(prompts).flatMapSequential(p -> producer.send(Topics.PROMPTS, p.getId(), p, PROMPT::encode), 256, 1)
                        .blockLast(WRITE.plusMillis(20L * prompts.size()));
                awaitJudged(job, filter, scorer, actors, out);
            } finally {
                for (ActorService a : actors) {
                    tokens += a.stats().tokensGenerated();
                    a.close();
                }
            }
            // the filter closes before the file: a sample it publishes while draining still gets its line
            filter.close();
            judged = filter.promptsJudged();
            dead = filter.deadLettered() + scorer.stats().deadLettered();
        }
        return new Result(funnel, List.copyOf(kept), issued, judged, dead, tokens, (System.nanoTime() - t0) / 1e9);
    }

    /** Waits until every prompt's group was judged or dead-lettered, or nothing moved for {@code stall}. */
    private static void awaitJudged(Job job, RejectionFilterService filter, ScorerService scorer, List<ActorService> actors,
                                    PrintStream out) {
        int n = job.prompts().size();
        long lastChange = System.nanoTime();
        long lastPrint = System.nanoTime();
        long seen = -1;
        while (true) {
            long done = filter.promptsJudged() + filter.deadLettered() + scorer.stats().deadLettered();
            if (done >= n) {
                return;
            }
            filter.failure().ifPresent(RejectionSampling::fail);
            scorer.failure().ifPresent(RejectionSampling::fail);
            actors.forEach(a -> a.failure().ifPresent(RejectionSampling::fail));
            if (done != seen) {
                seen = done;
                lastChange = System.nanoTime();
            } else if (System.nanoTime() - lastChange > job.stall().toNanos()) {
                out.printf(Locale.ROOT, "[%s] no group judged for %d s: going on with %d of %d prompts judged%n", POLICY,
                        job.stall().toSeconds(), done, n);
                return;
            }
            if (System.nanoTime() - lastPrint > 10_000_000_000L) {
                lastPrint = System.nanoTime();
                out.printf(Locale.ROOT, "[%s] sampled and judged %d/%d prompts, %d samples kept%n", POLICY,
                        filter.promptsJudged(), n, filter.samplesPublished());
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PipelineException("interrupted while sampling");
            }
        }
    }

    private static void fail(Throwable e) {
        throw new PipelineException("rejection sampling failed: " + e);
    }

    /** Announces the fixed weights as version 1 of the job's run, so the actors load and serve them. */
    private static void announce(ReactiveProducer producer, Job job) throws IOException {
        WeightSnapshot snap = WeightSnapshot.open(job.weights());
        byte[] bytes = Files.readAllBytes(job.weights());
        PolicyVersion pv = PolicyVersion.newBuilder().setPolicy(POLICY).setVersion(1).setStep(snap.step())
                .setRunId(job.runId()).setIncarnation(0).setWeightsLocation(job.weights().toAbsolutePath().toString())
                .setSha256(WeightChunks.sha256(bytes)).setCreatedAtMs(System.currentTimeMillis()).setSpec(snap.spec().toJson())
                .build();
        producer.send(Topics.POLICY_VERSIONS, POLICY, pv, VERSION::encode).block(WRITE);
    }

    private static List<Prompt> prompts(Job job) {
        List<Prompt> out = new ArrayList<>(job.prompts().size());
        long now = System.currentTimeMillis();
        for (int i = 0; i < job.prompts().size(); i++) {
            TaskInstance t = job.prompts().get(i);
            out.add(Prompt.newBuilder().setId(job.runId() + "/" + i).setRunId(job.runId()).setTask(t.task()).setText(t.text())
                    .setAnswer(t.answer()).setFields(new HashMap<>(t.fields())).setDataset(t.task()).setSplit("train")
                    .setIssuedAtVersion(1).setIssuedAtMs(now).setPolicy(POLICY).setMinPolicyVersion(1).build());
        }
        return out;
    }

    /** Commits {@code group}'s position on every partition of {@code topic} at its end, unless the group has positions. */
    static void startAtEnd(KafkaSettings kafka, String group, String topic) {
        Properties props = kafka.consumerProps(group);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo p : c.partitionsFor(topic, WRITE)) {
                parts.add(new TopicPartition(topic, p.partition()));
            }
            Map<TopicPartition, OffsetAndMetadata> committed = c.committed(new java.util.HashSet<>(parts), WRITE);
            if (committed.values().stream().anyMatch(o -> o != null)) {
                return;
            }
            Map<TopicPartition, OffsetAndMetadata> ends = new HashMap<>();
            c.endOffsets(parts, WRITE).forEach((tp, off) -> ends.put(tp, new OffsetAndMetadata(off)));
            c.commitSync(ends, WRITE);
        }
    }

    private static void writeLine(BufferedWriter w, SftSample s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", s.getId());
        o.put("promptId", s.getPromptId());
        o.put("runId", s.getRunId());
        o.put("task", s.getTask());
        o.put("prompt", s.getPrompt());
        o.put("completion", s.getCompletion());
        o.put("tokens", s.getTokens());
        o.put("reward", s.getReward());
        o.put("policyVersion", s.getPolicyVersion());
        o.put("source", s.getSource());
        try {
            w.write(JSON.writeValueAsString(o));
            w.newLine();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
