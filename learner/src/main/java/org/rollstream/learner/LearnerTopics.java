package org.rollstream.learner;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.StepAudit;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import reactor.core.publisher.Flux;

/**
 * The learner's Kafka I/O besides its input: issuing prompts, writing audit records, and reading the
 * prompts topic back to find what a crashed incarnation issued. Every write returns only once the
 * broker has it, because the state machine treats it as done.
 */
final class LearnerTopics {
    private static final AvroCodec<Prompt> PROMPT = AvroCodec.of(Prompt.class);
    private static final AvroCodec<StepAudit> AUDIT = AvroCodec.of(StepAudit.class);
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaSettings kafka;
    private final ReactiveProducer producer;

    LearnerTopics(KafkaSettings kafka, ReactiveProducer producer) {
        this.kafka = kafka;
        this.producer = producer;
    }

    void issue(List<Prompt> prompts) {
        if (!prompts.isEmpty()) {
            Flux.fromIterable(prompts).concatMap(p -> producer.send(Topics.PROMPTS, p.getId().toString(), p, PROMPT::encode))
                    .blockLast(WRITE_TIMEOUT);
        }
    }

    void audit(StepAudit a) {
        producer.send(Topics.LEARNER_AUDIT, a.getRunId().toString(), a, AUDIT::encode).block(WRITE_TIMEOUT);
    }

    /**
     * The end offsets of the prompts topic now (partition → offset), asked through {@code consumer}
     * (the learner's own: a metadata request needs no assignment, and no client is opened per checkpoint).
     */
    static Map<Integer, Long> promptEnds(KafkaConsumer<byte[], byte[]> consumer) {
        List<TopicPartition> parts = partitions(consumer, Topics.PROMPTS);
        Map<Integer, Long> out = new HashMap<>();
        consumer.endOffsets(parts, Duration.ofSeconds(30)).forEach((tp, off) -> out.put(tp.partition(), off));
        return out;
    }

    /**
     * Reads the prompts topic from {@code from} (partition → offset; missing partitions from the start)
     * to its current end and reports the index of every prompt of {@code runId}: what some incarnation
     * issued after the checkpoint {@code from} was taken at.
     */
    void scanIssued(Map<Integer, Long> from, String runId, LongConsumer index) {
        String prefix = runId + "/";
        try (KafkaConsumer<byte[], byte[]> c = plainConsumer()) {
            List<TopicPartition> parts = partitions(c, Topics.PROMPTS);
            c.assign(parts);
            Map<TopicPartition, Long> ends = c.endOffsets(parts, Duration.ofSeconds(30));
            for (TopicPartition tp : parts) {
                Long off = from.get(tp.partition());
                if (off == null) {
                    c.seekToBeginning(List.of(tp));
                } else {
                    c.seek(tp, off);
                }
            }
            while (parts.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    String key = r.key() == null ? "" : new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
                    if (key.startsWith(prefix)) {
                        try {
                            index.accept(Long.parseLong(key.substring(prefix.length())));
                        } catch (NumberFormatException e) {
                            // not an id this learner wrote; nothing to account for
                        }
                    }
                }
            }
        }
    }

    static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer, String topic) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist; create the topics first");
        }
        return infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
    }

    private KafkaConsumer<byte[], byte[]> plainConsumer() {
        Properties props = kafka.consumerProps("unused");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        return new KafkaConsumer<>(props);
    }

}
