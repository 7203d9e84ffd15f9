package org.rollstream.reward.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.reward.ComponentScore;
import org.rollstream.reward.CompositeReward;
import org.rollstream.reward.ExternalOptions;
import org.rollstream.reward.RewardConfig;
import org.rollstream.reward.RewardInput;
import org.rollstream.reward.RewardScore;

/**
 * A real ONNX classifier run by ONNX Runtime: the test writes a tiny graph whose logit 0 counts the
 * tokens with id 55 (the byte '7', or the word "seven" of a word-level tokenizer) under the
 * attention mask, and logit 1 is its negation; a padding token would add 100, so any padding that
 * leaks past the mask shows.
 */
class OnnxRewardTest {
    static final int SEVEN = 55;
    static final float PAD_VALUE = 100f;

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeModel() throws Exception {
        model = dir.resolve("rm.onnx");
        Files.write(model, countingClassifier().toByteArray());
    }

    static List<RewardInput> group(String... completions) {
        List<RewardInput> out = new ArrayList<>();
        for (String c : completions) {
            out.add(RewardInput.builder().task("arithmetic").prompt("3+4=").answer("7").completion(c).groupId("g").build());
        }
        return out;
    }

    static long sevens(String s) {
        return s.chars().filter(ch -> ch == '7').count();
    }

    @Test
    void scoresPaddedBatchesOfBytesUnderTheMask() {
        List<String> texts = List.of("<answer>7</answer>", "77 and 7", "", "no digits here at all, but it is long", "7777777");
        try (OnnxReward rm = OnnxReward.create(new ExternalOptions("rm", Map.of("path", model.toString(), "tokenizer", "bytes", "batch", "2")))) {
            List<ComponentScore> scores = rm.scoreGroup(group(texts.toArray(String[]::new)));
            assertEquals(texts.size(), scores.size());
            for (int i = 0; i < texts.size(); i++) {
                assertEquals(sevens("3+4=" + texts.get(i)), scores.get(i).value(), 0.0, "text " + i + ": " + texts.get(i));
            }
        }
    }

    @Test
    void labelTextAndTruncationOptions() {
        Map<String, String> o = Map.of("path", model.toString(), "tokenizer", "bytes", "label", "1", "text", "completion", "max-length", "4");
        try (OnnxReward rm = OnnxReward.create(new ExternalOptions("rm", o))) {
            // completion only, at most 4 tokens: the first, then the last 3
            List<ComponentScore> s = rm.scoreGroup(group("7abc77", "a7"));
            assertEquals(-3.0, s.get(0).value(), 0.0); // "7" + "c77"
            assertEquals(-1.0, s.get(1).value(), 0.0);
        }
    }

    @Test
    void aWordLevelHuggingFaceTokenizerIsUsed() throws Exception {
        Path tok = dir.resolve("tokenizer.json");
        Files.writeString(tok, """
                {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
                 "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
                 "model": {"type": "WordLevel", "vocab": {"[UNK]": 1, "seven": 55, "eight": 56}, "unk_token": "[UNK]"}}
                """);
        try (OnnxReward rm = OnnxReward.create(new ExternalOptions("rm", Map.of("path", model.toString(), "text", "completion")))) {
            List<ComponentScore> s = rm.scoreGroup(group("seven eight seven", "eight", "seven 7 seven seven"));
            assertEquals(List.of(2.0, 0.0, 3.0), s.stream().map(ComponentScore::value).toList());
        }
    }

    @Test
    void weighedInACompositeConfiguration() {
        try (CompositeReward r = new CompositeReward(RewardConfig.parse("accuracy=1.0,rm=0.5,rm.type=onnx,rm.tokenizer=bytes,rm.path=" + model))) {
            List<RewardScore> s = r.scoreGroup(group("<answer>7</answer>", "<answer>8</answer>"));
            // "3+4=<answer>7</answer>": accuracy 1, one '7'; "<answer>8</answer>": neither
            assertEquals(1.0, s.get(0).components().get("rm"), 0.0);
            assertEquals(1.0 + 0.5 * 1, s.get(0).total(), 1e-12);
            assertEquals(0.0, s.get(1).components().get("rm"), 0.0);
            assertEquals(0.0, s.get(1).total(), 1e-12);
        }
    }

    @Test
    void badConfigurationsAreRefusedUpFront() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxReward.create(new ExternalOptions("rm", Map.of("path", dir.resolve("missing.onnx").toString()))));
        assertTrue(e.getMessage().contains("model file not found"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> OnnxReward.create(new ExternalOptions("rm", Map.of("path", model.toString(), "tokenizer", "bytes", "device", "tpu"))));
        assertTrue(e.getMessage().contains("cpu or cuda"), e.getMessage());
    }

    // ---- the graph

    static OnnxMl.ModelProto countingClassifier() {
        float[] values = new float[256];
        values[0] = PAD_VALUE;
        values[SEVEN] = 1f;
        ByteBuffer vb = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            vb.putFloat(v);
        }
        ByteBuffer ab = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L);
        OnnxMl.GraphProto g = OnnxMl.GraphProto.newBuilder().setName("counting-classifier")
                .addInput(tensorInput("input_ids", OnnxMl.TensorProto.DataType.INT64))
                .addInput(tensorInput("attention_mask", OnnxMl.TensorProto.DataType.INT64))
                .addOutput(tensorInput("logits", OnnxMl.TensorProto.DataType.FLOAT))
                .addInitializer(OnnxMl.TensorProto.newBuilder().setName("token_value").addDims(256)
                        .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber()).setRawData(ByteString.copyFrom(vb.array())))
                .addInitializer(OnnxMl.TensorProto.newBuilder().setName("axis1").addDims(1)
                        .setDataType(OnnxMl.TensorProto.DataType.INT64.getNumber()).setRawData(ByteString.copyFrom(ab.array())))
                .addNode(node("Gather", List.of("token_value", "input_ids"), "per_token"))
                .addNode(node("Cast", List.of("attention_mask"), "mask").toBuilder()
                        .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("to").setType(OnnxMl.AttributeProto.AttributeType.INT)
                                .setI(OnnxMl.TensorProto.DataType.FLOAT.getNumber())))
                .addNode(node("Mul", List.of("per_token", "mask"), "masked"))
                .addNode(node("ReduceSum", List.of("masked", "axis1"), "count"))
                .addNode(node("Neg", List.of("count"), "negated"))
                .addNode(node("Concat", List.of("count", "negated"), "logits").toBuilder()
                        .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("axis").setType(OnnxMl.AttributeProto.AttributeType.INT).setI(1)))
                .build();
        return OnnxMl.ModelProto.newBuilder().setIrVersion(8).setProducerName("rollstream-test").setGraph(g)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).build();
    }

    static OnnxMl.NodeProto node(String op, List<String> inputs, String output) {
        return OnnxMl.NodeProto.newBuilder().setOpType(op).setName(output).addAllInput(inputs).addOutput(output).build();
    }

    static OnnxMl.ValueInfoProto tensorInput(String name, OnnxMl.TensorProto.DataType type) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder()
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(name.equals("logits") ? "labels" : "tokens"));
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
    }
}
