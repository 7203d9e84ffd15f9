package org.rollstream.launcher;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a debugging command reads a run's topics: the cluster named by {@code --bootstrap-servers}, or
 * else the run's own retained log, {@code <run>/kafka}, which {@code rollstream run} keeps for its
 * embedded broker; an embedded broker is then started on that directory for the command's duration.
 */
final class RunLog {
    private RunLog() {
    }

    /** @throws UsageException when neither a cluster nor a run directory with a Kafka log is given */
    static KafkaOptions.Cluster open(KafkaOptions kafka, Path runDir, String command) {
        if (kafka.hasBootstrap()) {
            return kafka.clusterOrEmbedded(null, false);
        }
        if (runDir == null) {
            throw new UsageException(command + " needs --bootstrap-servers HOST:PORT, or --run-dir of a run whose "
                    + "embedded broker kept its log in <run>/kafka");
        }
        Path log = runDir.resolve("kafka");
        if (!Files.exists(log.resolve("meta.properties"))) {
            throw new UsageException(runDir + " has no Kafka log (" + log + "): the run used a cluster; pass its "
                    + "--bootstrap-servers");
        }
        return kafka.clusterOrEmbedded(log, false);
    }

    /** Parses {@code A..B} or {@code A} into [A, B]. */
    static long[] range(String text, String option) {
        try {
            int dots = text.indexOf("..");
            long a = Long.parseLong((dots < 0 ? text : text.substring(0, dots)).trim());
            long b = dots < 0 ? a : Long.parseLong(text.substring(dots + 2).trim());
            if (a < 1 || b < a) {
                throw new UsageException(option + " " + text + ": need 1 <= A <= B");
            }
            return new long[] {a, b};
        } catch (NumberFormatException e) {
            throw new UsageException(option + " " + text + " is not a range A..B of numbers");
        }
    }
}
