package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.KafkaSettings;

/**
 * {@code rollstream rescore}, {@code export} and {@code inspect --stats} on the recorded run's topics,
 * checked against the records read back from the broker.
 */
@ExtendWith(KafkaBrokerExtension.class)
class RescoreExportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);

    @TempDir
    Path dir;
    static String runId;

    @BeforeAll
    static void record(KafkaSettings kafka) {
        RecordedRun.get(kafka);
        runId = RecordedRun.summary().runId();
    }

    /** Every record of a topic, in partition then offset order. */
    private static List<ConsumerRecord<byte[], byte[]>> all(KafkaSettings kafka, String topic) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.consumerProps("rescore-export-test"))) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(15)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.add(r);
                }
            }
        }
        out.sort((a, b) -> a.partition() != b.partition() ? Integer.compare(a.partition(), b.partition())
                : Long.compare(a.offset(), b.offset()));
        return out;
    }

    private static List<JsonNode> lines(Path f) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            out.add(JSON.readTree(l)); // each line must be one JSON document
        }
        return out;
    }

    @Test
    void exportWritesEveryRecordOfTheRangeAsOneJsonLine(KafkaSettings kafka) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> scored = all(kafka, Topics.ROLLOUTS_SCORED);
        Path f = dir.resolve("scored.jsonl");
        RecordedRun.Outcome o = RecordedRun.cli("export", Topics.ROLLOUTS_SCORED, "--to", f.toString(),
                "--bootstrap-servers", kafka.bootstrapServers());
        assertEquals(0, o.code(), o.err());
        List<JsonNode> rows = lines(f);
        assertEquals(scored.size(), rows.size(), "one line per record");
        for (int i = 0; i < rows.size(); i++) {
            ConsumerRecord<byte[], byte[]> r = scored.get(i);
            JsonNode row = rows.stream().filter(n -> n.get("partition").asInt() == r.partition()
                    && n.get("offset").asLong() == r.offset()).findFirst().orElseThrow();
            ScoredGroup g = SCORED.decode(r.value());
            assertEquals(g.getGroup().getGroupId().toString(), row.at("/value/group/groupId").asText());
            assertEquals(g.getScores().get(0).getTotal(), row.at("/value/scores/0/total").asDouble());
            assertEquals(new String(r.key(), StandardCharsets.UTF_8), row.get("key").asText());
        }

        // a partition, an offset window and a limit
        ConsumerRecord<byte[], byte[]> p0 = scored.stream().filter(r -> r.partition() == 0).findFirst().orElseThrow();
        long inP0 = scored.stream().filter(r -> r.partition() == 0).count();
        Path w = dir.resolve("window.jsonl");
        assertEquals(0, RecordedRun.cli("export", Topics.ROLLOUTS_SCORED, "--to", w.toString(), "--bootstrap-servers",
                kafka.bootstrapServers(), "--partition", "0", "--from-offset", Long.toString(p0.offset() + 1)).code());
        List<JsonNode> window = lines(w);
        assertEquals(inP0 - 1, window.size());
        assertTrue(window.stream().allMatch(n -> n.get("partition").asInt() == 0 && n.get("offset").asLong() > p0.offset()));
        assertEquals(0, RecordedRun.cli("export", Topics.ROLLOUTS_SCORED, "--to", w.toString(), "--bootstrap-servers",
                kafka.bootstrapServers(), "--limit", "3").code());
        assertEquals(Math.min(3, scored.size()), lines(w).size());

        // by time: nothing is later than the last record
        long last = scored.stream().mapToLong(ConsumerRecord::timestamp).max().orElseThrow();
        assertEquals(0, RecordedRun.cli("export", Topics.ROLLOUTS_SCORED, "--to", w.toString(), "--bootstrap-servers",
                kafka.bootstrapServers(), "--from-time", Long.toString(last + 1)).code());
        assertEquals(0, lines(w).size());
        assertEquals(0, RecordedRun.cli("export", Topics.ROLLOUTS_SCORED, "--to", w.toString(), "--bootstrap-servers",
                kafka.bootstrapServers(), "--to-time", Long.toString(last)).code());
        assertEquals(scored.size(), lines(w).size());
    }

    @Test
    void exportRefusesWhatItCannotDo(KafkaSettings kafka) {
        String bs = kafka.bootstrapServers();
        RecordedRun.Outcome parquet = RecordedRun.cli("export", Topics.ROLLOUTS_SCORED, "--to", dir.resolve("x.parquet").toString(),
                "--bootstrap-servers", bs);
        assertEquals(2, parquet.code());
        assertTrue(parquet.err().contains("no Parquet library"), parquet.err());
        assertEquals(2, RecordedRun.cli("export", "no.such.topic", "--to", dir.resolve("x.jsonl").toString(),
                "--bootstrap-servers", bs).code());
        assertEquals(2, RecordedRun.cli("export", Topics.ROLLOUTS_SCORED, "--to", dir.resolve("x.jsonl").toString(),
                "--bootstrap-servers", bs, "--from-time", "yesterday").code());
        assertEquals(2, RecordedRun.cli("export", Topics.ROLLOUTS_SCORED, "--to", dir.resolve("x.jsonl").toString()).code(),
                "neither a cluster nor a run directory");
    }

    /** The recorded groups of this run: group id → rewards, advantages. */
    private static Map<String, ScoredGroup> recorded(KafkaSettings kafka) {
        Map<String, ScoredGroup> out = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : all(kafka, Topics.ROLLOUTS_SCORED)) {
            ScoredGroup g = SCORED.decode(r.value());
            if (g.getGroup().getPrompt().getId().toString().startsWith(runId + "/")) {
                out.putIfAbsent(g.getGroup().getGroupId().toString(), g);
            }
        }
        return out;
    }

    @Test
    void rescoringWithTheRunsOwnConfigurationChangesNothing(KafkaSettings kafka) throws Exception {
        Map<String, ScoredGroup> recorded = recorded(kafka);
        Path f = dir.resolve("same.jsonl");
        RecordedRun.Outcome o = RecordedRun.cli("rescore", "--bootstrap-servers", kafka.bootstrapServers(), "--rewards",
                RecordedRun.REWARDS, "--max-new-tokens", Integer.toString(RecordedRun.MAX_NEW_TOKENS), "--to", f.toString());
        assertEquals(0, o.code(), o.err());
        int compared = 0;
        for (JsonNode row : lines(f)) {
            ScoredGroup g = recorded.get(row.get("groupId").asText());
            if (g == null) {
                continue; // another test's run on the shared broker
            }
            compared++;
            for (int i = 0; i < g.getScores().size(); i++) {
                assertEquals(g.getScores().get(i).getTotal(), row.get("rewards").get(i).asDouble(), "reward " + i);
                assertEquals(g.getScores().get(i).getAdvantage(), row.get("advantages").get(i).asDouble(), 1e-12);
            }
        }
        assertTrue(compared >= RecordedRun.STEPS * RecordedRun.B, "the run's groups were rescored: " + compared);
        assertTrue(o.out().contains("advantage sign flips        0.0% of groups"), o.out());
    }

    @Test
    void rescoringWithANegatedPenaltyFlipsTheAdvantagesOfGroupsItRanks(KafkaSettings kafka) throws Exception {
        Map<String, ScoredGroup> recorded = recorded(kafka);
        Path f = dir.resolve("flipped.jsonl");
        String topic = "rescored.test";
        RecordedRun.Outcome o = RecordedRun.cli("rescore", "--bootstrap-servers", kafka.bootstrapServers(), "--from",
                Topics.ROLLOUTS_SCORED, "--rewards", "length=-1.0", "--max-new-tokens",
                Integer.toString(RecordedRun.MAX_NEW_TOKENS), "--to", f.toString(), "--to-topic", topic);
        assertEquals(0, o.code(), o.err());
        long informative = 0;
        long flipped = 0;
        for (JsonNode row : lines(f)) {
            ScoredGroup g = recorded.get(row.get("groupId").asText());
            if (g == null) {
                continue;
            }
            boolean lengthOnly = true;
            for (int i = 0; i < g.getScores().size(); i++) {
                double length = component(g.getScores().get(i), "length");
                assertEquals(-length, row.get("rewards").get(i).asDouble(), 0.0, "the rescored reward is the negated penalty");
                lengthOnly &= g.getScores().get(i).getTotal() == length;
            }
            boolean varied = g.getScores().stream().mapToDouble(CompletionScore::getTotal).distinct().count() > 1;
            if (!lengthOnly || !varied) {
                continue; // accuracy or format also scored, or no ranking to flip
            }
            informative++;
            boolean allFlipped = true;
            for (int i = 0; i < g.getScores().size(); i++) {
                double before = g.getScores().get(i).getAdvantage();
                double after = row.get("advantages").get(i).asDouble();
                allFlipped &= before == 0 ? after == 0 : before * after < 0;
            }
            flipped += allFlipped ? 1 : 0;
        }
        assertTrue(informative > 0, "the run had groups ranked by the length penalty alone");
        // negating the only reward that ranks a group flips the sign of every advantage in it
        assertEquals(informative, flipped);
        assertTrue(o.out().contains("advantage sign flips"), o.out());
        long published = all(kafka, topic).size();
        assertEquals(lines(f).size(), published, "the rescored groups went to the new topic too");

        RecordedRun.Outcome own = RecordedRun.cli("rescore", "--bootstrap-servers", kafka.bootstrapServers(), "--rewards",
                "accuracy=1", "--to-topic", Topics.ROLLOUTS_SCORED);
        assertEquals(2, own.code(), "never into the run's own topics");
        assertEquals(2, RecordedRun.cli("rescore", "--bootstrap-servers", kafka.bootstrapServers(), "--rewards",
                "accuracy=1,bogus=2").code());
    }

    /** A named reward component (Avro may key its map with Utf8). */
    private static double component(CompletionScore s, String name) {
        return s.getComponents().entrySet().stream().filter(e -> e.getKey().toString().equals(name))
                .mapToDouble(Map.Entry::getValue).findFirst().orElseThrow();
    }

    @Test
    void inspectStatsCountsAndDescribesTheTopic(KafkaSettings kafka) {
        int records = all(kafka, Topics.ROLLOUTS_SCORED).size();
        RecordedRun.Outcome o = RecordedRun.cli("inspect", Topics.ROLLOUTS_SCORED, "--stats", "--bootstrap-servers",
                kafka.bootstrapServers(), "--group", "rollstream-scorers-policy-recorded");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("records               " + records), o.out());
        assertTrue(o.out().contains("reward / completion   mean"), o.out());
        assertTrue(o.out().contains("completion tokens"), o.out());
        RecordedRun.Outcome sampled = RecordedRun.cli("inspect", Topics.ROLLOUTS_SAMPLED, "--stats", "--bootstrap-servers",
                kafka.bootstrapServers(), "--group", "rollstream-scorers-policy-recorded");
        assertEquals(0, sampled.code(), sampled.err());
        assertTrue(sampled.out().contains("lag of group rollstream-scorers-policy-recorded: "), sampled.out());
        RecordedRun.Outcome audit = RecordedRun.cli("inspect", Topics.LEARNER_AUDIT, "--stats", "--bootstrap-servers",
                kafka.bootstrapServers());
        assertTrue(audit.out().contains("groups trained"), audit.out());
    }
}
