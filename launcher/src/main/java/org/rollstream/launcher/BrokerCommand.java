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
    @Option(names = {"--log-dir", "--data-dir"}, paramLabel = "DIR",
            description = "Log directory (kept after exit; an existing one is reused with its topics and records). "
                    + "Default: a temporary directory, deleted on exit.")
    Path dataDir;

    @Option(names = "--port", defaultValue = "0",
            description = "Client port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}). With --log-dir, "
                    + "a restarted broker comes back at the same address with the same log.")
    int port;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of the data topics (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Override
    public Integer call() throws Exception {
        if (partitions < 1) {
            throw new UsageException("--partitions must be at least 1, got " + partitions);
        }
        if (port < 0 || port > 65535) {
            throw new UsageException("--port must be 0 (any free port) or 1-65535, got " + port);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        try (EmbeddedKafka broker = EmbeddedKafka.start(dataDir, port)) {
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
