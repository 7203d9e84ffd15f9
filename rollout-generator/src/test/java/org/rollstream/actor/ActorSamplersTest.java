package org.rollstream.actor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.FinishReason;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;
import org.rollstream.testsupport.Await;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.testsupport.TopicReader;

/**
 * An actor serves valid groups with either decoding loop (host and in-graph), and its throughput
 * counters add up: the tokens counted while sampling are the tokens of the groups on the broker,
 * and the serving wall time spans the (sequential) sampling time.
 */
@Timeout(120)
@ExtendWith(SharedBroker.class)
class ActorSamplersTest {
    static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    static final AvroCodec<Prompt> PROMPTS = AvroCodec.of(Prompt.class);
    static final AvroCodec<PolicyVersion> VERSIONS = AvroCodec.of(PolicyVersion.class);
    static final Tokenizer TOKENIZER = CharTokenizer.builtin();
    static final ModelSpec SPEC = new ModelSpec(TOKENIZER.vocabSize(), 32, 1, 2, 96, ModelSpec.Positional.LEARNED, 2);
    static final int G = 3, MAX_NEW = 16, PROMPT_COUNT = 6;

    static KafkaSettings settings;
    static ReactiveProducer producer;

    @TempDir
    Path weightsDir;

    @BeforeAll
    static void startBroker(EmbeddedKafka kafka) {
        settings = KafkaSettings.of(kafka.bootstrapServers());
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopics(Topics.all(2));
        }
        producer = ReactiveProducer.create(settings, "actor-samplers-test");
    }

    @AfterAll
    static void stopBroker() {
        producer.close();
    }

    @ParameterizedTest
    @EnumSource(value = SamplerChoice.class, names = {"HOST", "GRAPH"})
    void servesValidGroupsAndCountsTokensHonestly(SamplerChoice loop) {
        String policy = "samplers-" + loop;
        WeightSnapshot snap = WeightSnapshot.write(weightsDir, DjlPolicy.initialWeights(SPEC, 17), SPEC, 3, 3);
        PolicyVersion v = PolicyVersion.newBuilder().setPolicy(policy).setRunId("run-s").setVersion(3).setStep(3)
                .setWeightsLocation(snap.path().toString()).setSha256(snap.sha256()).setCreatedAtMs(System.currentTimeMillis())
                .setSpec(SPEC.toJson()).build();
        producer.send(Topics.POLICY_VERSIONS, policy, VERSIONS.encode(v)).block(Duration.ofSeconds(30));
        ActorConfig config = ActorConfig.defaults("actor-" + loop).withPolicyName(policy).withConsumerGroup("group-" + loop)
                .withSampling(G, 1.0f, 1.0f, MAX_NEW).withPromptsPerBatch(2).withSampler(loop);
        List<String> ids = IntStream.range(0, PROMPT_COUNT).mapToObj(i -> policy + "-" + i).toList();
        try (ActorService actor = ActorService.start(settings, config, TOKENIZER)) {
            Await.until(() -> actor.stats().currentVersion() == 3, actor.stats()::toString, Duration.ofSeconds(60));
            Random rnd = new Random(loop.ordinal());
            for (String id : ids) {
                TaskInstance t = TaskRegistry.defaults().resolve("arithmetic").sample(rnd);
                Prompt p = Prompt.newBuilder().setId(id).setTask(t.task()).setText(t.text()).setAnswer(t.answer())
                        .setFields(new HashMap<>(t.fields())).setPolicy(policy).setRunId("run-s").setMinPolicyVersion(3).build();
                producer.send(Topics.PROMPTS, id, PROMPTS.encode(p)).block(Duration.ofSeconds(30));
            }
            Map<String, SampledGroup> groups = TopicReader.readUntil(settings.bootstrapServers(), Topics.ROLLOUTS_SAMPLED, ids,
                    SAMPLED::decode, Duration.ofSeconds(90));
            long tokens = 0;
            for (String id : ids) {
                SampledGroup g = groups.get(id);
                assertEquals("actor-" + loop, g.getActorId().toString());
                assertEquals(3, g.getPolicyVersion());
                assertEquals("run-s", g.getPolicyRunId().toString());
                assertEquals(G, g.getCompletions().size());
                int[] promptTokens = PromptTokens.encode(TOKENIZER, g.getPrompt().getText().toString());
                for (Completion c : g.getCompletions()) {
                    int n = c.getTokenIds().size();
                    tokens += n;
                    int[] t = c.getTokenIds().stream().mapToInt(Integer::intValue).toArray();
                    assertEquals(n, c.getLogProbs().size());
                    assertEquals(n, c.getPolicyLogProbs().size());
                    assertEquals(promptTokens.length, c.getPromptTokens());
                    for (int k = 0; k < n; k++) {
                        float b = c.getLogProbs().get(k), p = c.getPolicyLogProbs().get(k);
                        assertTrue(b < 0 && Float.isFinite(b), "log-prob " + b);
                        assertEquals(p, b, 1e-5f, "at temperature 1 without a cut, behaviour = policy");
                    }
                    if (c.getFinishReason() == FinishReason.STOP) {
                        assertEquals(TOKENIZER.eos(), t[n - 1]);
                        assertEquals(TOKENIZER.decode(java.util.Arrays.copyOf(t, n - 1)), c.getText().toString());
                    } else {
                        assertEquals(MAX_NEW, n);
                        assertEquals(TOKENIZER.decode(t), c.getText().toString());
                    }
                }
            }
            long expected = tokens;
            Await.until(() -> actor.stats().groupsPublished() == PROMPT_COUNT, actor.stats()::toString, Duration.ofSeconds(30));
            ActorStats s = actor.stats();
            assertEquals(expected, s.tokensGenerated(), "sampled tokens are the tokens of the published completions");
            assertEquals(expected, s.tokensPublished());
            assertTrue(s.samplingSeconds() > 0 && s.servingSeconds() >= s.samplingSeconds(),
                    "batches run one after another: serving wall time spans their sampling time: " + s.servingSeconds() + " s, "
                            + s.samplingSeconds() + " s");
            assertTrue(s.servingTokensPerSecond() > 0 && s.servingTokensPerSecond() <= s.tokensPerSecond(), s.toString());
            assertEquals(0, s.nucleusLimitedSteps());
        }
    }
}
