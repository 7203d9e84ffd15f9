package org.rollstream.schemas;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.MetricEvent;
import org.rollstream.schemas.records.PartialReward;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.schemas.records.StepAudit;

/**
 * The wire contract for clients outside the JVM: which record each topic carries, each record's
 * schema as one self-contained {@code .avsc} (every nested type defined inline, so a stock Avro
 * parser needs no other file), its fingerprint, and a description of the framing.
 * {@link #export(Path)} writes all of it to a directory.
 */
public final class WireSchemas {
    /** The single-object encoding's marker, the first two bytes of every value. */
    public static final byte[] MAGIC = {(byte) 0xC3, 0x01};

    private WireSchemas() {
    }

    /** Topic → the schema of its values; every {@code <topic>.dlq} carries {@code DeadLetter}. */
    public static Map<String, Schema> byTopic() {
        Map<String, Schema> m = new LinkedHashMap<>();
        m.put(Topics.PROMPTS, Prompt.getClassSchema());
        m.put(Topics.ROLLOUTS_SAMPLED, SampledGroup.getClassSchema());
        m.put(Topics.ROLLOUTS_SCORED, ScoredGroup.getClassSchema());
        m.put(Topics.REWARDS_PARTIAL, PartialReward.getClassSchema());
        m.put(Topics.POLICY_VERSIONS, PolicyVersion.getClassSchema());
        m.put(Topics.SFT_SAMPLES, SftSample.getClassSchema());
        m.put(Topics.METRICS, MetricEvent.getClassSchema());
        m.put(Topics.LEARNER_AUDIT, StepAudit.getClassSchema());
        m.put("<topic>.dlq", DeadLetter.getClassSchema());
        return m;
    }

    /** The records that travel as Kafka values, each once. */
    public static List<Schema> topLevel() {
        List<Schema> out = new ArrayList<>();
        for (Schema s : byTopic().values()) {
            if (!out.contains(s)) {
                out.add(s);
            }
        }
        return out;
    }

    /** CRC-64-AVRO of the schema's parsing canonical form: bytes 2..9 of a value, little-endian. */
    public static long fingerprint(Schema s) {
        return SchemaNormalization.parsingFingerprint64(s);
    }

    /** The 8 fingerprint bytes as they appear on the wire, in hex. */
    public static String fingerprintBytes(Schema s) {
        long fp = fingerprint(s);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            sb.append(String.format(Locale.ROOT, "%02X", (fp >>> (8 * i)) & 0xff)).append(i < 7 ? " " : "");
        }
        return sb.toString();
    }

    /**
     * Writes {@code <Record>.avsc} for each top-level record (self-contained, pretty-printed) and
     * {@code wire-format.md}, creating {@code dir} when needed. Existing files of those names are replaced.
     *
     * @return the files written
     */
    public static List<Path> export(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (Schema s : topLevel()) {
            Path f = dir.resolve(s.getName() + ".avsc");
            Files.writeString(f, s.toString(true) + "\n", StandardCharsets.UTF_8);
            written.add(f);
        }
        Path doc = dir.resolve("wire-format.md");
        Files.writeString(doc, describe(), StandardCharsets.UTF_8);
        written.add(doc);
        return written;
    }

    /** The wire format in Markdown, with this release's topics and fingerprints. */
    public static String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Rollstream wire format\n\n")
          .append("Every Kafka value Rollstream writes is one Avro record in Avro's *single-object encoding*:\n\n")
          .append("| bytes | content |\n| --- | --- |\n")
          .append("| 0-1 | marker `C3 01` |\n")
          .append("| 2-9 | the writer schema's fingerprint: CRC-64-AVRO (Rabin) of its Parsing Canonical Form, little-endian |\n")
          .append("| 10- | the record in Avro binary encoding, written with that schema |\n\n")
          .append("Keys are UTF-8 text (ids; see the table). To decode a value: check the marker, look the fingerprint up among\n")
          .append("the schemas you know (the `.avsc` files next to this page), and read the rest with a binary decoder of that\n")
          .append("schema. In Python with `fastavro`: `schemaless_reader(io.BytesIO(value[10:]), parse_schema(json.load(open(\"ScoredGroup.avsc\"))))`;\n")
          .append("with the Avro Java library: `new BinaryMessageDecoder<>(GenericData.get(), schema).decode(value)`.\n")
          .append("Each `.avsc` here is self-contained: nested records (Prompt inside SampledGroup inside ScoredGroup, ...)\n")
          .append("are defined inline, so a stock parser needs no other file.\n\n")
          .append("Schemas evolve under Avro's rules: new fields come with defaults, and a value written by an older release\n")
          .append("carries the older fingerprint. Decode it with the older schema as writer schema and yours as reader schema;\n")
          .append("`rollstream schemas export` of that release gives the older files.\n\n")
          .append("## Topics\n\n| topic | key | value | fingerprint bytes (2-9) |\n| --- | --- | --- | --- |\n");
        Map<String, String> keys = Map.of(Topics.PROMPTS, "prompt id", Topics.ROLLOUTS_SAMPLED, "prompt id", Topics.ROLLOUTS_SCORED, "prompt id",
                Topics.REWARDS_PARTIAL, "group id", Topics.POLICY_VERSIONS, "policy name", Topics.SFT_SAMPLES, "sample id",
                Topics.METRICS, "role/instance", Topics.LEARNER_AUDIT, "run id", "<topic>.dlq", "the original key");
        byTopic().forEach((topic, s) -> sb.append("| `").append(topic).append("` | ").append(keys.getOrDefault(topic, ""))
                .append(" | `").append(s.getName()).append("` | `").append(fingerprintBytes(s)).append("` |\n"));
        sb.append("\n## Writing partial rewards without Avro\n\n")
          .append("`rewards.partial` also accepts a JSON value (its first byte is `{`), keyed by group id:\n\n")
          .append("```json\n{\"group_id\": \"<SampledGroup.groupId>\", \"component\": \"judge\", \"rewards\": [1.0, 0.0],\n")
          .append(" \"parts\": {\"style\": [0.5, 0.2]}, \"error\": \"\", \"scorer\": \"my-judge 0.3\"}\n```\n\n")
          .append("`rewards` holds one finite number per completion, in the group's order. `parts`, `error` and `scorer` are optional;\n")
          .append("a non-empty `error` (then `rewards` may be empty) dead-letters the group with that reason.\n");
        return sb.toString();
    }
}
