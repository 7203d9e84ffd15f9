package org.rollstream.launcher;

import java.util.concurrent.Callable;
import org.rollstream.transport.bench.TransportBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "transport", mixinStandardHelpOptions = true,
        description = "Records/s and MB/s produced and consumed through Kafka (an embedded broker unless --bootstrap-servers), median of --runs.")
final class TransportBench implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Option(names = "--runs", defaultValue = "5", description = "Measured runs (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--records", defaultValue = "10000", description = "Records per run (default: ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--record-bytes", defaultValue = "16384", description = "Value size in bytes (default: ${DEFAULT-VALUE}).")
    int recordBytes;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of the benchmark topic (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Override
    public Integer call() {
        if (runs < 1 || records < 1 || recordBytes < 1 || partitions < 1) {
            throw new UsageException("--runs, --records, --record-bytes and --partitions must all be at least 1");
        }
        try (KafkaOptions.Cluster cluster = kafka.clusterOrEmbedded(null, false)) {
            System.out.println(TransportBenchmark.run(cluster.settings(), new TransportBenchmark.Config(runs, records, recordBytes, partitions)));
        }
        return 0;
    }
}
