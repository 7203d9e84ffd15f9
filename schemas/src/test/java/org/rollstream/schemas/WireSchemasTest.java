package org.rollstream.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.FinishReason;
import org.rollstream.schemas.records.PartialReward;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.ScorerIdentity;
import org.rollstream.schemas.serde.AvroCodec;

/** The exported schemas are enough, alone, for a stock Avro parser to decode real values. */
class WireSchemasTest {

    @Test
    void eachExportedSchemaParsesAloneAndMatchesTheWireFingerprint(@TempDir Path dir) throws Exception {
        List<Path> files = WireSchemas.export(dir);
        assertTrue(Files.readString(dir.resolve("wire-format.md")).contains("C3 01"));
        for (Schema s : WireSchemas.topLevel()) {
            Path f = dir.resolve(s.getName() + ".avsc");
            assertTrue(files.contains(f), f.toString());
            Schema parsed = new Schema.Parser().parse(f.toFile()); // a fresh parser: knows no other type
            assertEquals(WireSchemas.fingerprint(s), SchemaNormalization.parsingFingerprint64(parsed), s.getName());
        }
        assertEquals(10, files.size(), "9 value records and the doc: " + files);
    }

    @Test
    void aScoredGroupDecodesWithOnlyTheExportedFile(@TempDir Path dir) throws Exception {
        WireSchemas.export(dir);
        Prompt prompt = Prompt.newBuilder().setId("p-1").setTask("arithmetic").setText("37+48=").setAnswer("85")
                .setFields(Map.of("op", "add")).build();
        Completion c = Completion.newBuilder().setTokenIds(List.of(5, 6, 7)).setText("<answer>85</answer>")
                .setLogProbs(List.of(-0.1f, -0.2f, -0.3f)).setFinishReason(FinishReason.STOP).setPromptTokens(4).setPolicyVersion(9).build();
        SampledGroup g = SampledGroup.newBuilder().setGroupId("g-1").setPrompt(prompt).setPromptTokenIds(List.of(1, 2, 3, 4))
                .setPolicyVersion(9).setCompletions(List.of(c)).build();
        ScoredGroup scored = ScoredGroup.newBuilder().setGroup(g)
                .setScores(List.of(CompletionScore.newBuilder().setComponents(Map.of("accuracy", 1.0)).setTotal(1.0).setAdvantage(0.0).build()))
                .setScorer(ScorerIdentity.newBuilder().setName("rules").setVersion("1").setConfig("accuracy=1.0").build()).build();
        byte[] wire = AvroCodec.of(ScoredGroup.class).encode(scored);

        Schema schema = new Schema.Parser().parse(dir.resolve("ScoredGroup.avsc").toFile());
        assertArrayEquals(WireSchemas.MAGIC, Arrays.copyOf(wire, 2));
        long fp = ByteBuffer.wrap(wire, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(SchemaNormalization.parsingFingerprint64(schema), fp);
        GenericRecord r = new GenericDatumReader<GenericRecord>(schema, schema, GenericData.get())
                .read(null, DecoderFactory.get().binaryDecoder(wire, 10, wire.length - 10, null));
        GenericRecord group = (GenericRecord) r.get("group");
        assertEquals("g-1", group.get("groupId").toString());
        assertEquals("85", ((GenericRecord) group.get("prompt")).get("answer").toString());
        GenericRecord completion = (GenericRecord) ((List<?>) group.get("completions")).get(0);
        assertEquals("<answer>85</answer>", completion.get("text").toString());
        assertEquals(List.of(-0.1f, -0.2f, -0.3f), completion.get("logProbs"));
        assertEquals("STOP", completion.get("finishReason").toString());
        GenericRecord score = (GenericRecord) ((List<?>) r.get("scores")).get(0);
        assertEquals(1.0, score.get("total"));
        assertEquals("accuracy=1.0", ((GenericRecord) r.get("scorer")).get("config").toString());
    }

    @Test
    void partialRewardsRoundTripThroughTheExportedSchema(@TempDir Path dir) throws Exception {
        WireSchemas.export(dir);
        Schema schema = new Schema.Parser().parse(dir.resolve("PartialReward.avsc").toFile());
        byte[] wire = AvroCodec.of(PartialReward.class).encode(PartialReward.newBuilder().setGroupId("g-7").setComponent("judge")
                .setRewards(List.of(0.5, 1.0)).build());
        GenericRecord r = new GenericDatumReader<GenericRecord>(schema)
                .read(null, DecoderFactory.get().binaryDecoder(wire, 10, wire.length - 10, null));
        assertEquals("judge", r.get("component").toString());
        assertEquals(List.of(0.5, 1.0), r.get("rewards"));
        assertEquals(WireSchemas.fingerprint(schema), ByteBuffer.wrap(wire, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }
}
