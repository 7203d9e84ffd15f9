package org.rollstream.reward.rejection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.FinishReason;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.testsupport.Await;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.testsupport.TopicReader;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;

/** The filter role on a real broker: its job's groups judged, others passed by, a broken group dead-lettered with its reason. */
@ExtendWith(SharedBroker.class)
class RejectionFilterServiceTest {
    private static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);

    @Test
    void publishesKeptSamplesAndDeadLettersWhatCannotBeJudged(EmbeddedKafka broker) {
        KafkaSettings kafka = KafkaSettings.of(broker.bootstrapServers());
        try (TopicAdmin admin = new TopicAdmin(kafka)) {
            admin.ensureTopics(Topics.all(2));
        }
        String job = "rfs" + System.nanoTime();
        String good2 = "<think>37+48=85</think><answer>85</answer>";
        ScoredGroup ours = RejectionFilterTest.group(job + "/0", "g0", List.of(
                RejectionFilterTest.c(RejectionFilterTest.GOOD, FinishReason.STOP),
                RejectionFilterTest.c(good2, FinishReason.STOP),
                RejectionFilterTest.c("85", FinishReason.STOP)));
        ScoredGroup other = RejectionFilterTest.group("someone-else/0", "g1",
                List.of(RejectionFilterTest.c(RejectionFilterTest.GOOD, FinishReason.STOP)));
        ScoredGroup broken = RejectionFilterTest.group(job + "/1", "g2", List.of(RejectionFilterTest.c(RejectionFilterTest.GOOD, FinishReason.STOP)));
        broken.setScores(new ArrayList<>());
        try (ReactiveProducer p = ReactiveProducer.create(kafka, "rfs-test")) {
            for (ScoredGroup g : List.of(other, ours, broken)) {
                p.send(Topics.ROLLOUTS_SCORED, g.getGroup().getPrompt().getId(), SCORED.encode(g)).block(Duration.ofSeconds(30));
            }
        }
        FilterFunnel funnel = new FilterFunnel();
        List<SftSample> sunk = Collections.synchronizedList(new ArrayList<>());
        try (RejectionFilterService s = RejectionFilterService.start(kafka, "rfs-" + job, job,
                RejectionSettings.defaults().withLength(1, 60), funnel, sunk::add)) {
            Await.until(() -> s.groupsJudged() == 1 && s.deadLettered() == 1,
                    () -> "judged " + s.groupsJudged() + ", dead-lettered " + s.deadLettered(), Duration.ofSeconds(60));
            assertEquals(1, s.promptsJudged());
            assertEquals(2, s.samplesPublished());
        }
        assertEquals(3, funnel.input()); // the other run's group was not counted
        assertEquals(2, funnel.keptCount());
        assertEquals(1, funnel.removed(FilterFunnel.Filter.FORMAT));
        assertEquals(List.of(job + "/0#0", job + "/0#1"), sunk.stream().map(SftSample::getId).toList());

        Map<String, SftSample> published = TopicReader.readUntil(broker.bootstrapServers(), Topics.SFT_SAMPLES,
                List.of(job + "/0#0", job + "/0#1"), AvroCodec.of(SftSample.class)::decode, Duration.ofSeconds(30));
        assertEquals(RejectionFilterTest.GOOD, published.get(job + "/0#0").getCompletion());
        assertEquals(good2, published.get(job + "/0#1").getCompletion());
        assertTrue(published.keySet().stream().noneMatch(k -> k.startsWith("someone-else")));

        Map<String, DeadLetter> dead = TopicReader.readUntil(broker.bootstrapServers(), Topics.dlq(Topics.ROLLOUTS_SCORED),
                List.of(job + "/1"), AvroCodec.of(DeadLetter.class)::decode, Duration.ofSeconds(30));
        assertTrue(dead.get(job + "/1").getReason().contains("0 scores for 1 completions"), dead.get(job + "/1").getReason());
    }
}
