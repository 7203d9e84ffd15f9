package org.rollstream.launcher;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.rollstream.schemas.serde.RecordDecodeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Writes a range of a topic to a JSONL file: one line per record, "
                + "{\"topic\",\"partition\",\"offset\",\"timestamp\",\"key\",\"value\"} with the decoded record as value "
                + "(an undecodable record has \"undecodable\" with the reason instead).",
                "JSONL only: no Parquet library is on the class path (a .parquet target is refused)."})
final class ExportCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Mixin
    TopicRange range;

    @Parameters(paramLabel = "TOPIC", description = "prompts, rollouts.sampled, rollouts.scored, policy.versions, sft.samples, metrics, learner.audit, or <topic>.dlq")
    String topic;

    @Option(names = "--to", required = true, paramLabel = "FILE.jsonl", description = "The file to write (replaced if it exists).")
    Path to;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "Read the run's own Kafka log (<run>/kafka) instead of --bootstrap-servers.")
    Path runDir;

    @Override
    public Integer call() {
        Function<byte[], Object> decoder = TopicCodecs.decoder(topic);
        String name = to.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".parquet")) {
            throw new UsageException("Parquet export is not available: no Parquet library is on Rollstream's class path; "
                    + "export to .jsonl (DuckDB or pandas read it)");
        }
        range.validate();
        Path parent = to.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new UsageException("cannot write " + to + ": directory " + parent + " does not exist");
        }
        long[] undecodable = {0};
        long n;
        try (KafkaOptions.Cluster cluster = RunLog.open(kafka, runDir, "export");
             BufferedWriter out = Files.newBufferedWriter(to, StandardCharsets.UTF_8)) {
            n = range.read(cluster.settings(), topic, r -> {
                String value;
                try {
                    value = decoder.apply(r.value()).toString();
                } catch (RecordDecodeException e) {
                    undecodable[0]++;
                    value = "{\"undecodable\": " + quote(e.getMessage()) + "}";
                }
                String key = r.key() == null ? "null" : quote(new String(r.key(), StandardCharsets.UTF_8));
                try {
                    out.write("{\"topic\": " + quote(r.topic()) + ", \"partition\": " + r.partition() + ", \"offset\": "
                            + r.offset() + ", \"timestamp\": " + r.timestamp() + ", \"key\": " + key + ", \"value\": "
                            + value + "}");
                    out.newLine();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("cannot write " + to + ": " + e.getMessage(), e);
        }
        System.out.printf(Locale.ROOT, "exported %d records of %s to %s%s%n", n, topic, to,
                undecodable[0] == 0 ? "" : " (" + undecodable[0] + " undecodable, kept with their reason)");
        return 0;
    }

    /** A JSON string literal. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : (s == null ? "" : s).toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
