package org.rollstream.policy.ort;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import com.google.protobuf.ByteString;
import org.rollstream.policy.Weights;
import org.tribuo.util.onnx.ONNXContext;
import org.tribuo.util.onnx.ONNXRef;

/**
 * Writes the reward model (the learner's {@code RewardModel}) as a self-contained ONNX file, weights
 * included, that the scorer's {@code onnx} reward runs: inputs {@code input_ids} and
 * {@code attention_mask} (int64, (B,T), right padding), output {@code logits} (float, (B,2)):
 * column 0 helpfulness, column 1 harmlessness.
 *
 * <p>The function, over the parameters {@code embed} (V,E), {@code conv.weight} (K·E,H),
 * {@code conv.bias}, {@code fc.weight} (2H,M), {@code fc.bias}, {@code head.weight} (M,2),
 * {@code head.bias}: embed the ids and zero the padded rows; concatenate each position's embedding
 * with the next K−1 (zeros past the end); {@code tanh} of the convolution; max and mean over the
 * real positions; {@code tanh} of the MLP layer; the two heads.
 */
public final class OnnxRewardModelExporter {
    static final String[] PARAMETERS = {"embed", "conv.weight", "conv.bias", "fc.weight", "fc.bias", "head.weight", "head.bias"};

    private OnnxRewardModelExporter() {
    }

    /** @throws IllegalArgumentException when a parameter is missing or shapes do not fit together */
    public static byte[] export(Weights weights) {
        for (String p : PARAMETERS) {
            if (!weights.contains(p)) {
                throw new IllegalArgumentException("not reward-model weights: no parameter '" + p + "'");
            }
        }
        long[] emb = weights.get("embed").shape();
        long[] conv = weights.get("conv.weight").shape();
        if (emb.length != 2 || conv.length != 2 || conv[0] % emb[1] != 0) {
            throw new IllegalArgumentException("conv.weight rows " + conv[0] + " are not a multiple of the embedding width " + emb[1]);
        }
        int window = (int) (conv[0] / emb[1]);
        return model(weights, window).toByteArray();
    }

    /** Writes {@link #export} to {@code file}. */
    public static void write(Weights weights, Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(file, export(weights));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static OnnxMl.ModelProto model(Weights weights, int window) {
        ONNXContext ctx = new ONNXContext();
        Graph g = new Graph(ctx);
        ONNXRef<?> ids = ctx.floatInput("input_ids", 1);
        ONNXRef<?> maskIds = ctx.floatInput("attention_mask", 1);
        ONNXRef<?> embed = ctx.floatInput("embed", 1);
        ONNXRef<?> mask = g.op(OnnxOps.CAST, Map.of("to", DataType.FLOAT_VALUE), maskIds);
        ONNXRef<?> mask3 = g.op(OnnxOps.UNSQUEEZE, mask, ctx.array("axes", new long[]{2}));
        ONNXRef<?> x = g.op(OnnxOps.MUL, g.op(OnnxOps.GATHER, Map.of("axis", 0), embed, ids), mask3);
        ONNXRef<?> windows = x;
        if (window > 1) {
            ONNXRef<?> padded = g.op(OnnxOps.PAD, x, ctx.array("pads", new long[]{0, 0, 0, 0, window - 1, 0}));
            List<ONNXRef<?>> shifts = new ArrayList<>();
            for (int i = 0; i < window; i++) {
                long end = i == window - 1 ? Long.MAX_VALUE : i - (window - 1);
                shifts.add(g.op(OnnxOps.SLICE, padded, ctx.array("start", new long[]{i}), ctx.array("end", new long[]{end}),
                        ctx.array("axis", new long[]{1})));
            }
            windows = ctx.operation(OnnxOps.CONCAT, shifts, "windows", Map.of("axis", 2));
        }
        ONNXRef<?> h = g.op(OnnxOps.TANH, g.op(OnnxOps.ADD, g.op(OnnxOps.MATMUL, windows, ctx.floatInput("conv.weight", 1)),
                ctx.floatInput("conv.bias", 1)));
        // padded positions get −1e4 before the max, and weight 0 in the mean (over at least one token)
        ONNXRef<?> penalty = g.op(OnnxOps.MUL, g.op(OnnxOps.SUB, mask3, ctx.constant("one", 1f)), ctx.constant("big", 1e4f));
        ONNXRef<?> max = g.op(OnnxOps.REDUCE_MAX, Map.of("axes", new int[]{1}, "keepdims", 0), g.op(OnnxOps.ADD, h, penalty));
        ONNXRef<?> sum = g.op(OnnxOps.REDUCE_SUM, Map.of("keepdims", 0), g.op(OnnxOps.MUL, h, mask3), ctx.array("axes", new long[]{1}));
        ONNXRef<?> count = g.op(OnnxOps.MAX, g.op(OnnxOps.REDUCE_SUM, Map.of("keepdims", 1), mask, ctx.array("axes", new long[]{1})),
                ctx.constant("one", 1f));
        ONNXRef<?> z = g.op(OnnxOps.CONCAT, Map.of("axis", 1), max, g.op(OnnxOps.DIV, sum, count));
        ONNXRef<?> f = g.op(OnnxOps.TANH, g.op(OnnxOps.ADD, g.op(OnnxOps.MATMUL, z, ctx.floatInput("fc.weight", 1)),
                ctx.floatInput("fc.bias", 1)));
        ONNXRef<?> out = g.op(OnnxOps.ADD, g.op(OnnxOps.MATMUL, f, ctx.floatInput("head.weight", 1)), ctx.floatInput("head.bias", 1));
        ctx.assignTo(out, ctx.floatOutput("logits", 1));

        OnnxMl.GraphProto.Builder gb = ctx.buildGraph().toBuilder().clearInput().clearOutput().setName("rollstream-reward-model");
        gb.addInput(OnnxPolicyExporter.Builder.value("input_ids", DataType.INT64_VALUE, "batch", "seq"));
        gb.addInput(OnnxPolicyExporter.Builder.value("attention_mask", DataType.INT64_VALUE, "batch", "seq"));
        gb.addOutput(OnnxPolicyExporter.Builder.value("logits", DataType.FLOAT_VALUE, "batch", "2"));
        for (String p : PARAMETERS) {
            Weights.Tensor t = weights.get(p);
            ByteBuffer bytes = ByteBuffer.allocate(t.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(t.data());
            OnnxMl.TensorProto.Builder tp = OnnxMl.TensorProto.newBuilder().setName(p).setDataType(DataType.FLOAT_VALUE)
                    .setRawData(ByteString.copyFrom(bytes.array()));
            for (long d : t.shape()) {
                tp.addDims(d);
            }
            gb.addInitializer(tp);
        }
        return OnnxMl.ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("rollstream-reward-model")
                .setModelVersion(1)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OnnxOps.OPSET))
                .setGraph(gb)
                .build();
    }

    /** Node naming for one graph. */
    private record Graph(ONNXContext ctx) {
        ONNXRef<?> op(OnnxOps op, Map<String, Object> attrs, ONNXRef<?>... inputs) {
            return ctx.operation(op, List.of(inputs), op.getOpName().toLowerCase(), attrs);
        }

        ONNXRef<?> op(OnnxOps op, ONNXRef<?>... inputs) {
            return op(op, Map.of(), inputs);
        }
    }
}
