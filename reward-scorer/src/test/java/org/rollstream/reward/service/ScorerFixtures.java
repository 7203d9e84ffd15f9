package org.rollstream.reward.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.FinishReason;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.tasks.Answers;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.testsupport.TopicReader;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;

/** Sampled groups with known answers, and reading and writing them, for the external-scorer tests. */
final class ScorerFixtures {
    static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);
    static final Pattern ANSWER = Pattern.compile("<answer>(.*?)</answer>", Pattern.DOTALL);

    private ScorerFixtures() {
    }

    /** {@code n} groups of 4 arithmetic completions: right, wrong, unformatted, right with spaces. */
    static List<SampledGroup> groups(String prefix, int n, String promptSuffix) {
        List<SampledGroup> out = new ArrayList<>();
        Random rnd = new Random(prefix.hashCode());
        for (int i = 0; i < n; i++) {
            TaskInstance p = TaskRegistry.defaults().resolve("arithmetic").sample(rnd);
            List<Completion> cs = List.of(completion(Answers.format("add", p.answer())), completion(Answers.format("add", p.answer() + "7")),
                    completion(p.answer()), completion("<think>so</think><answer> " + p.answer() + " </answer>"));
            String id = prefix + "-" + i;
            Prompt prompt = Prompt.newBuilder().setId(id).setTask(p.task()).setText(p.text() + promptSuffix)
                    .setAnswer(p.answer()).setFields(new HashMap<>(p.fields())).build();
            out.add(SampledGroup.newBuilder().setGroupId("g-" + id).setPrompt(prompt).setPromptTokenIds(List.of(1, 2, 3))
                    .setPolicyVersion(1).setActorId("test").setCompletions(new ArrayList<>(cs)).build());
        }
        return out;
    }

    static Completion completion(String text) {
        List<Integer> ids = new ArrayList<>();
        List<Float> lp = new ArrayList<>();
        for (int i = 0; i < Math.max(1, text.length() / 3); i++) {
            ids.add(5 + i % 40);
            lp.add(-0.7f);
        }
        return Completion.newBuilder().setTokenIds(ids).setText(text).setLogProbs(lp).setFinishReason(FinishReason.STOP)
                .setPromptTokens(3).setPolicyVersion(1).build();
    }

    /** What the Python example's judge gives: 1 when the last answer tag holds the answer, stripped. */
    static double judged(String completion, String answer) {
        Matcher m = ANSWER.matcher(completion);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last != null && last.strip().equals(answer.strip()) ? 1.0 : 0.0;
    }

    static void assertJudged(SampledGroup g, ScoredGroup s, double weight) {
        assertTrue(s != null, "not scored: " + g.getPrompt().getId());
        assertEquals(g.getGroupId(), s.getGroup().getGroupId());
        List<Completion> cs = g.getCompletions();
        double sum = 0;
        for (int i = 0; i < cs.size(); i++) {
            CompletionScore sc = s.getScores().get(i);
            double expected = judged(cs.get(i).getText(), g.getPrompt().getAnswer());
            sum += expected;
            assertEquals(expected, sc.getComponents().get("judge"), 0.0, g.getGroupId() + " completion " + i);
            double accuracy = sc.getComponents().getOrDefault("accuracy", 0.0);
            assertEquals(accuracy + weight * expected, sc.getTotal(), 1e-12, g.getGroupId() + " total " + i);
        }
        assertEquals(2.0, sum, 0.0, "two completions of each group are right");
    }

    static void assertReason(DeadLetter d, String expected) {
        assertTrue(d != null, "no dead letter");
        assertTrue(d.getReason().contains(expected), "reason: " + d.getReason());
    }

    static List<String> keys(List<SampledGroup> groups) {
        return groups.stream().map(g -> g.getPrompt().getId()).toList();
    }

    static void publish(KafkaSettings settings, List<SampledGroup> groups) {
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "test-producer")) {
            for (SampledGroup g : groups) {
                producer.send(Topics.ROLLOUTS_SAMPLED, g.getPrompt().getId(), SAMPLED.encode(g)).block(Duration.ofSeconds(30));
            }
        }
    }

    static <V> Map<String, V> read(KafkaSettings settings, String topic, List<String> keys, Function<byte[], V> decode) {
        return TopicReader.readUntil(settings.bootstrapServers(), topic, keys, decode, Duration.ofSeconds(90));
    }

    /** Everything on the topic now, by key (last wins). */
    static <V> Map<String, V> readAll(KafkaSettings settings, String topic, Function<byte[], V> decode) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Map<String, V> out = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.put(r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8), decode.apply(r.value()));
                }
            }
        }
        return out;
    }
}
