package org.rollstream.launcher.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.rollstream.actor.ActorStats;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.reward.service.ScorerStats;
import org.rollstream.schemas.records.MetricEvent;
import org.rollstream.transport.KafkaSettings;

/** The Prometheus endpoint answers over HTTP with the named series, and consumer lag is what the broker holds. */
class RoleMetricsEndpointTest {
    private static String get(int port, String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    private static double value(String scrape, String seriesPrefix) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(seriesPrefix) + "[^ ]* ([-+0-9.eENa]+)$").matcher(scrape);
        assertTrue(m.find(), "series " + seriesPrefix + " in\n" + scrape);
        return Double.parseDouble(m.group(1));
    }

    private static MetricEvent train(long step, double reward, double kl, double staleness) {
        return MetricEvent.newBuilder().setRole("learner").setInstance("t").setKind("train").setStep(step).setTimestampMs(0)
                .setValues(Map.of("reward", reward, "kl", kl, "staleness", staleness, "tokens_per_s", 1234.0,
                        "mismatch_kl", 0.01)).build();
    }

    @Test
    void theEndpointServesEveryNamedSeries() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(null); RoleMetrics metrics = new RoleMetrics()) {
            String bootstrap = kafka.bootstrapServers();
            String topic = "prompts";
            Properties admin = new Properties();
            admin.put("bootstrap.servers", bootstrap);
            try (Admin a = Admin.create(admin)) {
                a.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            }
            Properties pp = new Properties();
            pp.put("bootstrap.servers", bootstrap);
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < 10; i++) {
                    p.send(new ProducerRecord<>(topic, new byte[] {(byte) i})).get();
                }
            }
            Properties cp = new Properties();
            cp.put("bootstrap.servers", bootstrap);
            cp.put("group.id", "lag-group");
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                c.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(3)));
            }

            int port = metrics.serve(0);
            metrics.bindActor(new ActorStats());
            metrics.bindScorer(new ScorerStats());
            var learner = metrics.learnerListener();
            learner.accept(train(1, 0.25, 0.002, 0.0));
            learner.accept(train(2, 0.5, 0.004, 1.0));
            metrics.bindConsumerLag(KafkaSettings.of(bootstrap), "lag-group", Duration.ofMillis(200));

            String scrape = get(port, "/metrics");
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!scrape.contains("rollstream_consumer_lag_records{") && System.nanoTime() < deadline) {
                Thread.sleep(200);
                scrape = get(port, "/metrics");
            }
            assertEquals(7.0, value(scrape, "rollstream_consumer_lag_records{group=\"lag-group\",topic=\"prompts\"}"),
                    "10 records, 3 committed");
            for (String series : List.of("rollstream_records_consumed_total{role=\"actor\"", "rollstream_records_consumed_total{role=\"scorer\"",
                    "rollstream_dlq_records_total{role=\"actor\"", "rollstream_dlq_records_total{role=\"scorer\"",
                    "rollstream_sampled_tokens_total", "rollstream_sampled_tokens_per_second", "rollstream_weights_handover_seconds_count",
                    "rollstream_learner_step_seconds_count", "rollstream_learner_staleness_bucket", "rollstream_learner_train_mismatch_kl")) {
                assertTrue(scrape.contains(series), series + " in\n" + scrape);
            }
            assertEquals(0.5, value(scrape, "rollstream_learner_reward{"));
            assertEquals(0.004, value(scrape, "rollstream_learner_kl{"));
            assertEquals(2.0, value(scrape, "rollstream_learner_step_number{"));
            assertEquals(1234.0, value(scrape, "rollstream_trained_tokens_per_second{"));
            assertEquals(2.0, value(scrape, "rollstream_learner_staleness_count{"));
            assertEquals(1.0, value(scrape, "rollstream_learner_staleness_sum{"));
            assertEquals(1.0, value(scrape, "rollstream_learner_step_seconds_count{"), "one interval between two steps");
            assertEquals("ok\n", get(port, "/health"));
        }
    }
}
