package org.rollstream.launcher;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import org.rollstream.schemas.Topics;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.TopicAdmin;
import org.rollstream.broker.EmbeddedKafka;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "broker", mixinStandardHelpOptions = true,
        description = "Runs a standalone embedded Apache Kafka KRaft broker, creates Rollstream's topics and prints "
                + "its bootstrap address; stops on Ctrl-C.")
final class BrokerCommand implements Callable<Integer> {
    @Option(names = "--data-dir", paramLabel = "DIR", description = "Log directory (kept after exit). Default: a temporary directory, deleted on exit.")
    Path dataDir;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of the data topics (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Override
    public Integer call() throws Exception {
        if (partitions < 1) {
            throw new UsageException("--partitions must be at least 1, got " + partitions);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        try (EmbeddedKafka broker = EmbeddedKafka.start(dataDir)) {
            try (TopicAdmin admin = new TopicAdmin(KafkaSettings.of(broker.bootstrapServers()))) {
                admin.ensureTopics(Topics.all(partitions));
            }
            System.out.println("Kafka broker ready: bootstrap servers " + broker.bootstrapServers());
            System.out.println("Use: ./rollstream <role> --bootstrap-servers " + broker.bootstrapServers());
            System.out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "broker-stop"));
            stopped.await();
        }
        return 0;
    }
}
