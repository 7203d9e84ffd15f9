package org.rollstream.transport.bench;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.rollstream.schemas.Topics;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveConsumer;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.Received;
import org.rollstream.transport.TopicAdmin;
import reactor.core.publisher.Flux;

/**
 * Throughput of the transport: records of a fixed size produced (idempotent, acks=all) and then
 * consumed through {@link ReactiveConsumer} with an ack per record, on a fresh topic per run.
 * Reports each run and the median of the runs. Not a test: numbers depend on the machine.
 */
public final class TransportBenchmark {
    /** What to measure. */
    public record Config(int runs, int records, int recordBytes, int partitions) {
        public static Config defaults() {
            return new Config(5, 10_000, 16 * 1024, 4);
        }
    }

    /** One phase of one run. */
    public record Rate(double recordsPerSecond, double megabytesPerSecond) {
        @Override
        public String toString() {
            return String.format("%,.0f records/s, %.1f MB/s", recordsPerSecond, megabytesPerSecond);
        }
    }

    public record Run(Rate produce, Rate consume) {
    }

    public record Report(Config config, List<Run> runs, Rate medianProduce, Rate medianConsume) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("transport benchmark: %d runs (after a warm-up) x %,d records of %,d bytes, %d partitions%n",
                    config.runs(), config.records(), config.recordBytes(), config.partitions()));
            for (int i = 0; i < runs.size(); i++) {
                sb.append(String.format("  run %d: produce %s | consume %s%n", i + 1, runs.get(i).produce(), runs.get(i).consume()));
            }
            sb.append(String.format("  median: produce %s | consume %s", medianProduce, medianConsume));
            return sb.toString();
        }
    }

    private TransportBenchmark() {
    }

    /** Runs against the cluster of {@code settings} ({@code rollstream bench transport} starts an embedded one). */
    public static Report run(KafkaSettings settings, Config config) {
        settings.verifyReachable(Duration.ofSeconds(10));
        // one unreported warm-up run, so the JIT of client and broker does not count as transport cost
        runOnce(settings, config, "bench.transport.warmup." + System.nanoTime());
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < config.runs(); i++) {
            runs.add(runOnce(settings, config, "bench.transport." + System.nanoTime()));
        }
        return new Report(config, runs,
                median(runs.stream().map(Run::produce).toList(), config.recordBytes()),
                median(runs.stream().map(Run::consume).toList(), config.recordBytes()));
    }

    private static Run runOnce(KafkaSettings settings, Config config, String topic) {
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic(topic, config.partitions(), Map.of());
            try {
                return measure(settings, config, topic);
            } finally {
                admin.deleteTopics(List.of(topic, Topics.dlq(topic))); // keep the disk small across runs
            }
        }
    }

    private static Run measure(KafkaSettings settings, Config config, String topic) {
        byte[] payload = new byte[config.recordBytes()];
        new Random(42).nextBytes(payload); // incompressible, like token ids and log-probs
        long t0 = System.nanoTime();
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "bench-producer")) {
            producer.sendAll(Flux.range(0, config.records())
                            .map(i -> new ProducerRecord<>(topic, ByteBuffer.allocate(4).putInt(i).array(), payload)))
                    .blockLast(Duration.ofMinutes(5));
        }
        long produceNanos = System.nanoTime() - t0;

        ReactiveConsumer<byte[]> consumer = ReactiveConsumer.builder(settings, "bench-" + topic, Function.identity())
                .topics(topic).build();
        long t1 = System.nanoTime();
        consumer.receive().doOnNext(Received::ack).take(config.records()).blockLast(Duration.ofMinutes(5));
        long consumeNanos = System.nanoTime() - t1;
        consumer.close();
        return new Run(rate(config, produceNanos), rate(config, consumeNanos));
    }

    private static Rate rate(Config config, long nanos) {
        double seconds = nanos / 1e9;
        double rps = config.records() / seconds;
        return new Rate(rps, rps * config.recordBytes() / (1024.0 * 1024.0));
    }

    private static Rate median(List<Rate> rates, int recordBytes) {
        double[] r = rates.stream().mapToDouble(Rate::recordsPerSecond).sorted().toArray();
        double mid = r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
        return new Rate(mid, mid * recordBytes / (1024.0 * 1024.0));
    }

    /** {@code --bootstrap-servers HOST:PORT [--runs N] [--records N] [--record-bytes N] [--partitions N]} */
    public static void main(String[] args) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        Config d = Config.defaults();
        int runs = d.runs(), records = d.records(), bytes = d.recordBytes(), partitions = d.partitions();
        String bootstrap = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--bootstrap-servers" -> bootstrap = args[i + 1];
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--records" -> records = Integer.parseInt(args[i + 1]);
                case "--record-bytes" -> bytes = Integer.parseInt(args[i + 1]);
                case "--partitions" -> partitions = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " in " + Arrays.toString(args));
            }
        }
        if (bootstrap == null) {
            throw new IllegalArgumentException("--bootstrap-servers is required (rollstream bench transport starts a broker itself)");
        }
        Report report = run(KafkaSettings.of(bootstrap), new Config(runs, records, bytes, partitions));
        System.out.println(report);
    }
}
