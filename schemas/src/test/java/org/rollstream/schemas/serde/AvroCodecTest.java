package org.rollstream.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.FinishReason;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.ScorerIdentity;

class AvroCodecTest {

    static Prompt prompt() {
        return Prompt.newBuilder().setId("p-1").setTask("arithmetic").setText("12+34=").setAnswer("46")
                .setFields(Map.of("a", "12", "b", "34")).setIssuedAtVersion(3).build();
    }

    @Test
    void roundTripsNestedRecords() {
        Completion c = Completion.newBuilder().setTokenIds(List.of(5, 6, 7)).setText("<answer>46</answer>")
                .setLogProbs(List.of(-0.1f, -0.2f, -0.3f)).setFinishReason(FinishReason.STOP).setPolicyVersion(3).build();
        SampledGroup g = SampledGroup.newBuilder().setGroupId("p-1@3").setPrompt(prompt()).setPolicyVersion(3)
                .setCompletions(List.of(c, c)).build();
        ScoredGroup s = ScoredGroup.newBuilder().setGroup(g)
                .setScores(List.of(new CompletionScore(Map.of("accuracy", 1.0), 1.0, 1.0),
                        new CompletionScore(Map.of("accuracy", 0.0), 0.0, -1.0)))
                .setScorer(new ScorerIdentity("builtin", "1", "accuracy=1")).build();
        AvroCodec<ScoredGroup> codec = AvroCodec.of(ScoredGroup.class);
        byte[] bytes = codec.encode(s);
        assertEquals((byte) 0xC3, bytes[0]);
        assertEquals((byte) 0x01, bytes[1]);
        assertEquals(s, codec.decode(bytes));
        assertEquals(s, codec.deserializer().deserialize("t", codec.serializer().serialize("t", s)));
    }

    @Test
    void readsARecordWrittenWithAnEarlierSchemaVersion() throws IOException {
        Schema v0 = new Schema.Parser().parse(resource("history/Prompt-v0.avsc"));
        GenericRecord old = new GenericData.Record(v0);
        old.put("id", "old-7");
        old.put("task", "arithmetic");
        old.put("text", "3*4=");
        old.put("answer", "12");
        old.put("dataset", "builtin");
        old.put("epoch", 2);
        ByteBuffer buf = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v0).encode(old);
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);

        // the default registry picks the old version up from the history list on the class path
        Prompt read = AvroCodec.of(Prompt.class).decode(bytes);
        assertEquals("old-7", read.getId());
        assertEquals("12", read.getAnswer());
        assertEquals(2, read.getEpoch());
        // fields added since then take their defaults
        assertEquals(Map.of(), read.getFields());
        assertEquals("train", read.getSplit());
        assertEquals(0L, read.getIssuedAtVersion());
    }

    @Test
    void readsAnUnsignedPolicyVersionWrittenBeforeSignatures() throws IOException {
        Schema v2 = new Schema.Parser().parse(resource("history/PolicyVersion-v2.avsc"));
        GenericRecord old = new GenericData.Record(v2);
        old.put("policy", "default");
        old.put("version", 4L);
        old.put("runId", "run-a");
        old.put("incarnation", 1L);
        old.put("step", 9L);
        old.put("weightsLocation", "/runs/a/weights/v000004.safetensors");
        old.put("sha256", "ab");
        old.put("createdAtMs", 1L);
        old.put("spec", "{}");
        old.put("metrics", Map.of());
        ByteBuffer buf = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v2).encode(old);
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        PolicyVersion read = AvroCodec.of(PolicyVersion.class).decode(bytes);
        assertEquals(4L, read.getVersion());
        assertEquals("run-a", read.getRunId());
        assertEquals("", read.getSignature()); // the field added since: unsigned
    }

    @Test
    void unknownFingerprintIsATypedError() {
        SchemaRegistry onlyCurrent = new SchemaRegistry();
        onlyCurrent.register(Prompt.getClassSchema());
        byte[] bytes = AvroCodec.of(Prompt.class).encode(prompt());
        // flip a fingerprint byte: a schema nobody registered
        bytes[5] ^= 0x5A;
        UnknownSchemaException e = assertThrows(UnknownSchemaException.class,
                () -> AvroCodec.of(Prompt.class, onlyCurrent).decode(bytes));
        assertTrue(e.getMessage().contains("unknown writer schema fingerprint"), e.getMessage());
        assertTrue(e.fingerprint() != SchemaRegistry.fingerprint(Prompt.getClassSchema()));
    }

    @Test
    void garbageIsADecodeErrorNotACrash() {
        AvroCodec<Prompt> codec = AvroCodec.of(Prompt.class);
        RecordDecodeException bad = assertThrows(RecordDecodeException.class,
                () -> codec.decode("not avro at all".getBytes(StandardCharsets.UTF_8)));
        assertTrue(bad.getMessage().contains("bad header"), bad.getMessage());
        byte[] good = codec.encode(prompt());
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 4);
        assertThrows(RecordDecodeException.class, () -> codec.decode(truncated));
        assertThrows(RecordDecodeException.class, () -> codec.decode(null));
    }

    @Test
    void encodingIsDeterministic() {
        AvroCodec<Prompt> codec = AvroCodec.of(Prompt.class);
        assertArrayEquals(codec.encode(prompt()), codec.encode(prompt()));
    }

    private static String resource(String path) throws IOException {
        try (InputStream in = AvroCodecTest.class.getClassLoader().getResourceAsStream(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
