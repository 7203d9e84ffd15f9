package org.rollstream.policy.ort;

import org.rollstream.policy.ModelSpec;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import org.tribuo.util.onnx.ONNXContext;
import org.tribuo.util.onnx.ONNXNode;
import org.tribuo.util.onnx.ONNXRef;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The GENERATE_FUSED variant: prefill and an ONNX {@code Loop} as in {@link LoopGraph}, but each
 * decoding step is built for few nodes and no host work: ONNX Runtime's fused {@code com.microsoft}
 * Attention per layer (one (2,B,H,P,D) cache each, a raw int32 padding mask), no Shape/Range mask
 * construction, the loop condition passed straight through (no copy to the device and back), the
 * head as one Gemm against {@code wte} padded to a multiple of 256 rows (transB), and the body's
 * outputs named by their producers rather than copied by Identity nodes.
 *
 * <p>ONNX Runtime waits for the device after every Loop iteration (it reads the condition on the
 * host), so the host cannot queue work ahead of the GPU. The body therefore runs {@link #UNROLL}
 * decoding steps per iteration: the loop runs ceil((max_new_tokens - 1) / UNROLL) times, up to
 * UNROLL - 1 surplus tokens come out at the end (positions clamped to the context) and the caller
 * drops them.
 */
final class FusedLoopGraph {
    /** decoding steps per Loop iteration (system property {@code rollstream.fusedUnroll} for benchmarks, default 8) */
    static final int UNROLL = Math.max(1, Integer.getInteger("rollstream.fusedUnroll", 8));

    /**
     * How the greedy token is picked: {@code topk} (TopK k=1, default), {@code argmax} (ArgMax:
     * measured at ~3 ms per call on (256, 50257) fp16 on an H200 with the CUDA provider) or
     * {@code reduce} (ReduceMax, Equal, ReduceMin over positions). System property
     * {@code rollstream.fusedArgmax}, for benchmarks. All pick the lowest index among ties.
     */
    static final String ARGMAX = System.getProperty("rollstream.fusedArgmax", "topk");

    /**
     * {@code -Drollstream.fusedAttention=mha}: com.microsoft MultiHeadAttention with an additive
     * fp16 bias and separate past_key/past_value caches instead of Attention (benchmarks).
     */
    static final boolean MHA = "mha".equals(System.getProperty("rollstream.fusedAttention"));
    /** the head against wte padded to a multiple of 256 rows (default); {@code -Drollstream.paddedHead=false} for the plain one, to compare */
    static final boolean PADDED_HEAD = !"false".equals(System.getProperty("rollstream.paddedHead"));

    private FusedLoopGraph() {
    }

    /** Index (B,1) int64 of the largest logit of each row of (B,V) logits. */
    static ONNXRef<?> argmax(OnnxPolicyExporter.Builder b, ONNXRef<?> logits) {
        switch (ARGMAX) {
            case "argmax":
                return b.op(OnnxOps.ARGMAX, Map.of("axis", -1, "keepdims", 1), logits);
            case "reduce": {
                int v = b.spec.vocabSize();
                int[] iota = new int[v];
                for (int i = 0; i < v; i++) iota[i] = i;
                ONNXRef<?> max = b.op(OnnxOps.REDUCE_MAX, Map.of("axes", new int[]{-1}, "keepdims", 1), logits);
                ONNXRef<?> at = b.op(OnnxOps.WHERE, b.op(OnnxOps.EQUAL, logits, max), b.ctx.array(b.prefix + "iota", iota),
                        b.ctx.array(b.prefix + "c", new int[]{v}));
                return b.op(OnnxOps.CAST, Map.of("to", DataType.INT64_VALUE),
                        b.op(OnnxOps.REDUCE_MIN, Map.of("axes", new int[]{-1}, "keepdims", 1), at));
            }
            default: {
                List<ONNXNode> top = b.ctx.operation(OnnxOps.TOPK, List.of(logits, b.i64(1)),
                        List.of(b.prefix + "topv", b.prefix + "topi"), Map.of("axis", -1, "largest", 1, "sorted", 1));
                return top.get(1);
            }
        }
    }

    static OnnxMl.GraphProto build(OnnxPolicyExporter.Builder outer, OnnxPolicyExporter.Builder.Step prefill,
                                   ONNXRef<?> posIds, ONNXRef<?> attn) {
        ModelSpec spec = outer.spec;
        int layers = spec.layers();
        ONNXRef<?> scalar = outer.i64();
        // the head against wte padded to a multiple of 256 rows (padding held at -inf by a bias): cuBLAS
        // runs the padded width about twice as fast as 50,257 (ONNX Runtime profile on the H200)
        SamplerHead.Head head = PADDED_HEAD ? SamplerHead.head(outer) : new SamplerHead.Head(outer.w.get("wte.weight"), null);
        ONNXRef<?> lastHidden = outer.op(OnnxOps.GATHER, Map.of("axis", 1), prefill.hidden(), outer.op(OnnxOps.RESHAPE, outer.i64(-1), scalar));
        ONNXRef<?> logits0 = head.bias() == null ? outer.op(OnnxOps.GEMM, Map.of("transB", 1), lastHidden, head.weight())
                : outer.op(OnnxOps.GEMM, Map.of("transB", 1), lastHidden, head.weight(), head.bias());
        ONNXRef<?> tok0 = argmax(outer, logits0);
        ONNXRef<?> lp0 = outer.op(OnnxOps.GATHER_ELEMENTS, Map.of("axis", -1), LoopGraph.logSoftmax32(outer, logits0), tok0);
        ONNXRef<?> lastPos = outer.op(OnnxOps.GATHER, Map.of("axis", 1), posIds, outer.op(OnnxOps.RESHAPE, outer.i64(-1), scalar));
        ONNXRef<?> pos0 = outer.op(OnnxOps.UNSQUEEZE, outer.op(OnnxOps.ADD, lastPos, outer.i64(1)), outer.i64(1));
        ONNXRef<?> maxNew = outer.input("max_new_tokens");
        ONNXRef<?> steps = outer.op(OnnxOps.SUB, maxNew, outer.op(OnnxOps.RESHAPE, outer.i64(1), scalar));
        ONNXRef<?> trips = outer.op(OnnxOps.DIV, outer.op(OnnxOps.ADD, steps, outer.op(OnnxOps.RESHAPE, outer.i64(UNROLL - 1), scalar)),
                outer.op(OnnxOps.RESHAPE, outer.i64(UNROLL), scalar));
        ONNXRef<?> yes = outer.op(OnnxOps.CAST, Map.of("to", DataType.BOOL_VALUE), outer.op(OnnxOps.RESHAPE, outer.i64(1), scalar));

        ONNXRef<?> mask0 = !MHA ? attn : outer.op(OnnxOps.UNSQUEEZE, outer.op(OnnxOps.WHERE, outer.op(OnnxOps.EQUAL, attn, outer.i64(0)),
                outer.f(outer.maskValue()), outer.f(0f)), outer.i64(1, 2)); // additive (B,1,1,P)
        List<ONNXRef<?>> loopIn = new ArrayList<>(List.of(trips, yes, tok0, pos0, mask0));
        loopIn.addAll(prefill.presentK());
        if (MHA) loopIn.addAll(prefill.presentV());
        List<String> loopOut = new ArrayList<>(List.of("loop_tok", "loop_pos", "loop_mask"));
        for (int l = 0; l < (MHA ? 2 : 1) * layers; l++) loopOut.add("loop_kv" + l);
        loopOut.add("loop_scan_tok");
        loopOut.add("loop_scan_lp");
        List<ONNXNode> outs = outer.ctx.operation(new LoopGraph.LoopOp(loopOut.size()), loopIn, loopOut, Map.of());
        ONNXRef<?> scanTok = outs.get(outs.size() - 2), scanLp = outs.get(outs.size() - 1);
        ONNXRef<?> zero = outer.i64(0); // (trips,UNROLL,B,1) -> (trips*UNROLL,B,1)
        ONNXRef<?> flat = outer.op(OnnxOps.CONCAT, Map.of("axis", 0), outer.i64(-1), outer.op(OnnxOps.SHAPE, Map.of("start", 0, "end", 2), tok0));
        outer.output("tokens", outer.op(OnnxOps.CONCAT, Map.of("axis", 0), outer.op(OnnxOps.UNSQUEEZE, tok0, zero),
                outer.op(OnnxOps.RESHAPE, scanTok, flat)));
        outer.output("token_logprobs", outer.op(OnnxOps.CONCAT, Map.of("axis", 0), outer.op(OnnxOps.UNSQUEEZE, lp0, zero),
                outer.op(OnnxOps.RESHAPE, scanLp, flat)));

        OnnxMl.GraphProto body = body(spec, outer.fp16, head);
        OnnxMl.GraphProto.Builder gb = outer.ctx.buildGraph().toBuilder();
        for (int i = 0; i < gb.getNodeCount(); i++) {
            if (gb.getNode(i).getOpType().equals("Loop")) {
                gb.setNode(i, gb.getNode(i).toBuilder().addAttribute(OnnxMl.AttributeProto.newBuilder()
                        .setName("body").setType(OnnxMl.AttributeProto.AttributeType.GRAPH).setG(body)));
            }
        }
        return outer.finish(gb.build());
    }

    private static OnnxMl.GraphProto body(ModelSpec spec, boolean fp16, SamplerHead.Head head) {
        int layers = spec.layers(), c = spec.width();
        OnnxPolicyExporter.Builder b = new OnnxPolicyExporter.Builder(spec, fp16, new ONNXContext(), "F_");
        b.ctx.setName("decode_step_fused");
        b.declareWeights(); // placeholders; the names resolve to the outer graph's initializers
        b.ctx.floatInput("F_iter", 1);
        b.ctx.floatInput("F_cond", 1);
        ONNXRef<?> tok = b.ctx.floatInput("F_tok", 1), pos = b.ctx.floatInput("F_pos", 1), mask = b.ctx.floatInput("F_mask", 1);
        int caches = (MHA ? 2 : 1) * layers;
        List<ONNXRef<?>> kv = new ArrayList<>();
        for (int l = 0; l < caches; l++) kv.add(b.ctx.floatInput("F_kv" + l, 1));
        int act = fp16 ? DataType.FLOAT16_VALUE : DataType.FLOAT_VALUE;
        String weightName = head.weight().getReference(); // values of the outer graph, by name
        ONNXRef<?> headWeight = b.w.containsKey(weightName) ? b.w.get(weightName) : b.ctx.floatInput(weightName, 1);
        ONNXRef<?> headBias = head.bias() == null ? null : b.ctx.floatInput(head.bias().getReference(), 1);
        ONNXRef<?> zero = b.i64(0), maxPos = b.i64(spec.contextLength() - 1);
        List<ONNXRef<?>> toks = new ArrayList<>(), lps = new ArrayList<>();
        ONNXRef<?> next = tok, posNext = pos, maskCur = mask;
        List<ONNXRef<?>> cache = kv;
        for (int u = 0; u < UNROLL; u++) {
            OnnxPolicyExporter.Builder.Step s;
            if (MHA) {
                ONNXRef<?> zeros = b.op(OnnxOps.UNSQUEEZE, b.op(OnnxOps.CAST, Map.of("to", act), b.op(OnnxOps.MUL, next, zero)), b.i64(1, 2));
                maskCur = b.op(OnnxOps.CONCAT, Map.of("axis", 3), maskCur, zeros);
                s = b.transformerFused(next, b.op(OnnxOps.MIN, posNext, maxPos), maskCur, cache.subList(0, layers), cache.subList(layers, 2 * layers));
                cache = new ArrayList<>(s.presentK());
                cache.addAll(s.presentV());
            } else {
                ONNXRef<?> ones = b.op(OnnxOps.ADD, b.op(OnnxOps.MUL, next, zero), b.i64(1));
                maskCur = b.op(OnnxOps.CONCAT, Map.of("axis", 1), maskCur, ones);
                ONNXRef<?> mask32 = b.op(OnnxOps.CAST, Map.of("to", DataType.INT32_VALUE), maskCur);
                s = b.transformerFused(next, b.op(OnnxOps.MIN, posNext, maxPos), mask32, cache);
                cache = s.presentK();
            }
            ONNXRef<?> last = b.op(OnnxOps.RESHAPE, s.hidden(), b.i64(-1, c)); // (B,1,C) -> (B,C)
            ONNXRef<?> logits = headBias == null ? b.op(OnnxOps.GEMM, Map.of("transB", 1), last, headWeight) // ln_f is in the last SkipLayerNorm
                    : b.op(OnnxOps.GEMM, Map.of("transB", 1), last, headWeight, headBias);
            next = argmax(b, logits);
            lps.add(b.op(OnnxOps.UNSQUEEZE, b.op(OnnxOps.GATHER_ELEMENTS, Map.of("axis", -1), LoopGraph.logSoftmax32(b, logits), next), zero));
            toks.add(b.op(OnnxOps.UNSQUEEZE, next, zero));
            posNext = b.op(OnnxOps.ADD, posNext, b.i64(1));
        }
        ONNXRef<?> scanTok = b.op(OnnxOps.CONCAT, Map.of("axis", 0), toks.toArray(new ONNXRef<?>[0]));
        ONNXRef<?> lp = b.op(OnnxOps.CONCAT, Map.of("axis", 0), lps.toArray(new ONNXRef<?>[0]));

        // body outputs: the producers' own values, renamed below
        Map<String, String> rename = new HashMap<>();
        List<OnnxMl.ValueInfoProto> outputs = new ArrayList<>();
        outputs.add(LoopGraph.typed("F_cond", DataType.BOOL_VALUE, true)); // condition passes straight through
        rename.put(next.getReference(), "F_tok_out");
        outputs.add(LoopGraph.typed("F_tok_out", DataType.INT64_VALUE, false));
        rename.put(posNext.getReference(), "F_pos_out");
        outputs.add(LoopGraph.typed("F_pos_out", DataType.INT64_VALUE, false));
        rename.put(maskCur.getReference(), "F_mask_out");
        outputs.add(LoopGraph.typed("F_mask_out", MHA ? act : DataType.INT64_VALUE, false));
        for (int l = 0; l < caches; l++) {
            rename.put(cache.get(l).getReference(), "F_kv_out" + l);
            outputs.add(LoopGraph.typed("F_kv_out" + l, act, false));
        }
        rename.put(scanTok.getReference(), "F_scan_tok");
        outputs.add(LoopGraph.typed("F_scan_tok", DataType.INT64_VALUE, false));
        rename.put(lp.getReference(), "F_scan_lp");
        outputs.add(LoopGraph.typed("F_scan_lp", DataType.FLOAT_VALUE, false));

        OnnxMl.GraphProto.Builder gb = OnnxPolicyExporter.Builder.dropEmpty(b.ctx.buildGraph().toBuilder()).clearInput().clearOutput();
        for (int i = 0; i < gb.getNodeCount(); i++) {
            OnnxMl.NodeProto.Builder nb = gb.getNode(i).toBuilder();
            for (int j = 0; j < nb.getInputCount(); j++) nb.setInput(j, rename.getOrDefault(nb.getInput(j), nb.getInput(j)));
            for (int j = 0; j < nb.getOutputCount(); j++) nb.setOutput(j, rename.getOrDefault(nb.getOutput(j), nb.getOutput(j)));
            gb.setNode(i, nb);
        }
        gb.addInput(LoopGraph.typed("F_iter", DataType.INT64_VALUE, true));
        gb.addInput(LoopGraph.typed("F_cond", DataType.BOOL_VALUE, true));
        gb.addInput(LoopGraph.typed("F_tok", DataType.INT64_VALUE, false));
        gb.addInput(LoopGraph.typed("F_pos", DataType.INT64_VALUE, false));
        gb.addInput(LoopGraph.typed("F_mask", MHA ? act : DataType.INT64_VALUE, false));
        for (int l = 0; l < caches; l++) gb.addInput(LoopGraph.typed("F_kv" + l, act, false));
        gb.addAllOutput(outputs);
        return gb.build();
    }
}
