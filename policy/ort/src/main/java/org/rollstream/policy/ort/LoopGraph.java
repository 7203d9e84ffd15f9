package org.rollstream.policy.ort;

import org.rollstream.policy.ModelSpec;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import org.tribuo.util.onnx.ONNXAttribute;
import org.tribuo.util.onnx.ONNXContext;
import org.tribuo.util.onnx.ONNXNode;
import org.tribuo.util.onnx.ONNXOperator;
import org.tribuo.util.onnx.ONNXRef;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The GENERATE variant: prefill, then an ONNX {@code Loop} whose body is one decoding step with
 * the KV cache, token, position and attention mask as loop-carried state, and the chosen tokens
 * and their log-probs as scan outputs. Decoding is greedy. Tribuo's builder cannot express graph
 * attributes, so the body is built in its own context and attached to the Loop node afterwards.
 */
final class LoopGraph {
    private LoopGraph() {
    }

    /** ONNX Loop with a variable number of loop-carried values and scan outputs. */
    record LoopOp(int outputs) implements ONNXOperator {
        public String getOpName() { return "Loop"; }
        public int getNumInputs() { return ONNXAttribute.VARIADIC_INPUT; }
        public int getNumOptionalInputs() { return 0; }
        public int getNumOutputs() { return outputs; }
        public Map<String, ONNXAttribute> getAttributes() { return Map.of(); }
        public Set<String> getMandatoryAttributeNames() { return Set.of(); }
        public int getOpVersion() { return OnnxOps.OPSET; }
        public String getOpDomain() { return ""; }
    }

    static OnnxMl.GraphProto build(OnnxPolicyExporter.Builder outer, OnnxPolicyExporter.Builder.Step prefill,
                                   ONNXRef<?> posIds, ONNXRef<?> attn) {
        ModelSpec spec = outer.spec;
        int layers = spec.layers();
        ONNXRef<?> scalar = outer.i64();
        ONNXRef<?> logits0 = outer.lastLogits(prefill.hidden());
        ONNXRef<?> tok0 = outer.op(OnnxOps.ARGMAX, Map.of("axis", -1, "keepdims", 1), logits0);
        ONNXRef<?> lp0 = outer.op(OnnxOps.GATHER_ELEMENTS, Map.of("axis", -1), logSoftmax32(outer, logits0), tok0);
        ONNXRef<?> lastPos = outer.op(OnnxOps.GATHER, Map.of("axis", 1), posIds, outer.op(OnnxOps.RESHAPE, outer.i64(-1), scalar));
        ONNXRef<?> pos0 = outer.op(OnnxOps.UNSQUEEZE, outer.op(OnnxOps.ADD, lastPos, outer.i64(1)), outer.i64(1));
        ONNXRef<?> maxNew = outer.input("max_new_tokens");
        ONNXRef<?> trips = outer.op(OnnxOps.SUB, maxNew, outer.op(OnnxOps.RESHAPE, outer.i64(1), scalar));
        ONNXRef<?> yes = outer.op(OnnxOps.CAST, Map.of("to", DataType.BOOL_VALUE), outer.op(OnnxOps.RESHAPE, outer.i64(1), scalar));

        List<ONNXRef<?>> loopIn = new ArrayList<>(List.of(trips, yes, tok0, pos0, attn));
        loopIn.addAll(prefill.presentK());
        loopIn.addAll(prefill.presentV());
        List<String> loopOut = new ArrayList<>(List.of("loop_tok", "loop_pos", "loop_mask"));
        for (int l = 0; l < layers; l++) loopOut.add("loop_k" + l);
        for (int l = 0; l < layers; l++) loopOut.add("loop_v" + l);
        loopOut.add("loop_scan_tok");
        loopOut.add("loop_scan_lp");
        List<ONNXNode> outs = outer.ctx.operation(new LoopOp(loopOut.size()), loopIn, loopOut, Map.of());
        ONNXRef<?> scanTok = outs.get(outs.size() - 2), scanLp = outs.get(outs.size() - 1);
        ONNXRef<?> zero = outer.i64(0);
        outer.output("tokens", outer.op(OnnxOps.CONCAT, Map.of("axis", 0), outer.op(OnnxOps.UNSQUEEZE, tok0, zero), scanTok));
        outer.output("token_logprobs", outer.op(OnnxOps.CONCAT, Map.of("axis", 0), outer.op(OnnxOps.UNSQUEEZE, lp0, zero), scanLp));

        OnnxMl.GraphProto body = body(spec, outer.fp16);
        OnnxMl.GraphProto g = outer.ctx.buildGraph();
        OnnxMl.GraphProto.Builder gb = g.toBuilder();
        for (int i = 0; i < gb.getNodeCount(); i++) {
            if (gb.getNode(i).getOpType().equals("Loop")) {
                gb.setNode(i, gb.getNode(i).toBuilder().addAttribute(OnnxMl.AttributeProto.newBuilder()
                        .setName("body").setType(OnnxMl.AttributeProto.AttributeType.GRAPH).setG(body)));
            }
        }
        return outer.finish(gb.build());
    }

    static ONNXRef<?> logSoftmax32(OnnxPolicyExporter.Builder b, ONNXRef<?> logits) {
        return b.op(OnnxOps.LOG_SOFTMAX, Map.of("axis", -1), b.op(OnnxOps.CAST, Map.of("to", DataType.FLOAT_VALUE), logits));
    }

    private static OnnxMl.GraphProto body(ModelSpec spec, boolean fp16) {
        int layers = spec.layers();
        OnnxPolicyExporter.Builder b = new OnnxPolicyExporter.Builder(spec, fp16, new ONNXContext(), "L_");
        b.ctx.setName("decode_step");
        b.declareWeights(); // placeholders; the names resolve to the outer graph's initializers
        ONNXRef<?> iter = b.ctx.floatInput("L_iter", 1), cond = b.ctx.floatInput("L_cond", 1);
        ONNXRef<?> tok = b.ctx.floatInput("L_tok", 1), pos = b.ctx.floatInput("L_pos", 1), mask = b.ctx.floatInput("L_mask", 1);
        List<ONNXRef<?>> ks = new ArrayList<>(), vs = new ArrayList<>();
        for (int l = 0; l < layers; l++) ks.add(b.ctx.floatInput("L_k" + l, 1));
        for (int l = 0; l < layers; l++) vs.add(b.ctx.floatInput("L_v" + l, 1));
        ONNXRef<?> ones = b.op(OnnxOps.ADD, b.op(OnnxOps.MUL, tok, b.i64(0)), b.i64(1));
        ONNXRef<?> maskCur = b.op(OnnxOps.CONCAT, Map.of("axis", 1), mask, ones);
        OnnxPolicyExporter.Builder.Step s = b.transformer(tok, pos, maskCur, ks, vs);
        ONNXRef<?> logits = b.lastLogits(s.hidden());
        ONNXRef<?> next = b.op(OnnxOps.ARGMAX, Map.of("axis", -1, "keepdims", 1), logits);
        ONNXRef<?> lp = b.op(OnnxOps.GATHER_ELEMENTS, Map.of("axis", -1), logSoftmax32(b, logits), next);

        List<String> outNames = new ArrayList<>();
        List<Integer> outTypes = new ArrayList<>();
        int act = fp16 ? DataType.FLOAT16_VALUE : DataType.FLOAT_VALUE;
        addOut(b, "L_cond_out", b.op(OnnxOps.IDENTITY, cond), DataType.BOOL_VALUE, outNames, outTypes);
        addOut(b, "L_tok_out", next, DataType.INT64_VALUE, outNames, outTypes);
        addOut(b, "L_pos_out", b.op(OnnxOps.ADD, pos, b.i64(1)), DataType.INT64_VALUE, outNames, outTypes);
        addOut(b, "L_mask_out", maskCur, DataType.INT64_VALUE, outNames, outTypes);
        for (int l = 0; l < layers; l++) addOut(b, "L_k_out" + l, s.presentK().get(l), act, outNames, outTypes);
        for (int l = 0; l < layers; l++) addOut(b, "L_v_out" + l, s.presentV().get(l), act, outNames, outTypes);
        addOut(b, "L_scan_tok", b.op(OnnxOps.IDENTITY, next), DataType.INT64_VALUE, outNames, outTypes);
        addOut(b, "L_scan_lp", lp, DataType.FLOAT_VALUE, outNames, outTypes);

        OnnxMl.GraphProto.Builder gb = b.ctx.buildGraph().toBuilder().clearInput().clearOutput();
        gb.addInput(typed("L_iter", DataType.INT64_VALUE, true));
        gb.addInput(typed("L_cond", DataType.BOOL_VALUE, true));
        gb.addInput(typed("L_tok", DataType.INT64_VALUE, false));
        gb.addInput(typed("L_pos", DataType.INT64_VALUE, false));
        gb.addInput(typed("L_mask", DataType.INT64_VALUE, false));
        for (int l = 0; l < layers; l++) gb.addInput(typed("L_k" + l, act, false));
        for (int l = 0; l < layers; l++) gb.addInput(typed("L_v" + l, act, false));
        for (int i = 0; i < outNames.size(); i++) gb.addOutput(typed(outNames.get(i), outTypes.get(i), false));
        return gb.build();
    }

    static void addOut(OnnxPolicyExporter.Builder b, String name, ONNXRef<?> v, int type, List<String> names, List<Integer> types) {
        b.ctx.assignTo(v, b.ctx.floatOutput(name, 1));
        names.add(name);
        types.add(type);
    }

    static OnnxMl.ValueInfoProto typed(String name, int type, boolean scalar) {
        OnnxMl.TypeProto.Tensor.Builder t = OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type);
        if (scalar) t.setShape(OnnxMl.TensorShapeProto.newBuilder());
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder().setTensorType(t)).build();
    }
}
