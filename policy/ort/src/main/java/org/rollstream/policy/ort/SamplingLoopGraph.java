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
 * The sampling variants ({@code SAMPLE*} over the plain transformer, {@code FUSED_SAMPLE*} over
 * ONNX Runtime's fused operators as in {@link FusedLoopGraph}): prefill, then an ONNX
 * {@code Loop} whose every decoding step draws its token inside the graph with
 * {@link SamplerHead}, so one {@code run} samples a whole batch with no host round trip per token.
 *
 * <p>Inputs beside the transformer's: {@code max_new_tokens} int64 scalar (at least 2: the Loop
 * must run at least once); {@code uniforms} float (N,B,1), the uniform number of row b at step t
 * (N = the number of steps the graph takes: max_new_tokens, or for the fused graph 1 plus the Loop
 * passes times {@link FusedLoopGraph#UNROLL}); {@code stop_ids} int64 (S), S at least 1; and the
 * head's values ({@link SamplerHead#INV_TEMPERATURE} and, for TOP_K and NUCLEUS, the top-k/top-p ones).
 * Outputs, each (N',B,1) with N' at most N: {@code tokens} int64, {@code logprobs} (behaviour)
 * float; {@code policy_logprobs} float except in FULL mode, where they equal the behaviour ones;
 * {@code nucleus_limited} float in NUCLEUS mode only.
 *
 * <p>Each row carries a finished flag (a stop token was drawn; checked once per Loop pass over
 * the pass's tokens, not per step, to keep kernel launches down); the Loop ends after the pass in
 * which every row has finished, so a batch that stops early costs no further passes. Finished
 * rows keep decoding until then; the caller cuts each row at its first stop token.
 */
final class SamplingLoopGraph {
    static final String UNIFORMS = "uniforms", STOP_IDS = "stop_ids";

    private SamplingLoopGraph() {
    }

    static OnnxMl.GraphProto build(OnnxPolicyExporter.Builder outer, OnnxPolicyExporter.Variant variant) {
        ModelSpec spec = outer.spec;
        boolean fused = variant.fused();
        SamplerHead.Mode mode = variant.samplingMode();
        int layers = spec.layers(), unroll = fused ? FusedLoopGraph.UNROLL : 1;
        ONNXRef<?> ids = outer.input("input_ids"), posIds = outer.input("position_ids"), attn = outer.input("attention_mask");
        ONNXRef<?> maxNew = outer.input("max_new_tokens");
        outer.input(UNIFORMS, DataType.FLOAT_VALUE, "steps", "batch", "1");
        outer.input(STOP_IDS, DataType.INT64_VALUE, "stops");
        if (mode != SamplerHead.Mode.FULL) outer.input(SamplerHead.INV_TEMPERATURE, DataType.FLOAT_VALUE);
        if (mode == SamplerHead.Mode.TOP_K || mode == SamplerHead.Mode.NUCLEUS) {
            outer.input(SamplerHead.TOP_P, DataType.FLOAT_VALUE);
            outer.input(SamplerHead.TOP_K, DataType.INT64_VALUE, "1");
            outer.input(SamplerHead.TOP_K_MASK, DataType.FLOAT_VALUE, "top_k");
            outer.input(SamplerHead.TOP_K_BLOCKS, DataType.INT64_VALUE, "3");
        }
        OnnxPolicyExporter.Builder.Step prefill;
        ONNXRef<?> last;
        ONNXRef<?> scalar = outer.i64();
        ONNXRef<?> lastIndex = outer.op(OnnxOps.RESHAPE, outer.i64(-1), scalar);
        if (fused) {
            outer.fusedCache = true;
            List<ONNXRef<?>> past = new ArrayList<>();
            for (int l = 0; l < layers; l++) past.add(outer.input("past_" + l));
            ONNXRef<?> mask32 = outer.op(OnnxOps.CAST, Map.of("to", DataType.INT32_VALUE), attn);
            prefill = outer.transformerFused(ids, posIds, mask32, past);
            last = outer.op(OnnxOps.GATHER, Map.of("axis", 1), prefill.hidden(), lastIndex); // after ln_f already
        } else {
            List<ONNXRef<?>> pk = new ArrayList<>(), pv = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                pk.add(outer.input("past_key_" + l));
                pv.add(outer.input("past_value_" + l));
            }
            prefill = outer.transformer(ids, posIds, attn, pk, pv);
            last = outer.ln(outer.op(OnnxOps.GATHER, Map.of("axis", 1), prefill.hidden(), lastIndex), "ln_f");
        }
        SamplerHead.Head head = SamplerHead.head(outer);
        SamplerHead sampler = new SamplerHead(outer, mode);
        ONNXRef<?> logits0 = outer.op(OnnxOps.GEMM, Map.of("transB", 1), last, head.weight(), head.bias());
        ONNXRef<?> u0 = outer.op(OnnxOps.GATHER, Map.of("axis", 0), outer.in.get(UNIFORMS), outer.op(OnnxOps.RESHAPE, outer.i64(0), scalar));
        SamplerHead.Draw first = sampler.draw(logits0, u0);
        ONNXRef<?> zero = outer.i64(0);
        ONNXRef<?> done0 = stopped(outer, outer.op(OnnxOps.UNSQUEEZE, first.token(), zero)); // (1,B,1)
        ONNXRef<?> lastPos = outer.op(OnnxOps.GATHER, Map.of("axis", 1), posIds, lastIndex);
        ONNXRef<?> pos0 = outer.op(OnnxOps.UNSQUEEZE, outer.op(OnnxOps.ADD, lastPos, outer.i64(1)), outer.i64(1));
        ONNXRef<?> one = outer.op(OnnxOps.RESHAPE, outer.i64(1), scalar);
        ONNXRef<?> steps = outer.op(OnnxOps.SUB, maxNew, one);
        ONNXRef<?> trips = unroll == 1 ? steps : outer.op(OnnxOps.DIV,
                outer.op(OnnxOps.ADD, steps, outer.op(OnnxOps.RESHAPE, outer.i64(unroll - 1), scalar)),
                outer.op(OnnxOps.RESHAPE, outer.i64(unroll), scalar));
        // the first pass always runs (ONNX Runtime fails on scan outputs of a Loop that never ran)
        ONNXRef<?> yes = outer.op(OnnxOps.CAST, Map.of("to", DataType.BOOL_VALUE), one);

        List<ONNXRef<?>> loopIn = new ArrayList<>(List.of(trips, yes, first.token(), pos0, attn, done0, one));
        loopIn.addAll(prefill.presentK());
        if (!fused) loopIn.addAll(prefill.presentV());
        int caches = (fused ? 1 : 2) * layers;
        List<String> loopOut = new ArrayList<>(List.of("sl_tok", "sl_pos", "sl_mask", "sl_done", "sl_step"));
        for (int l = 0; l < caches; l++) loopOut.add("sl_kv" + l);
        ONNXRef<?>[] firsts = outputsOf(first);
        String[] names = {"tokens", "logprobs", "policy_logprobs", "nucleus_limited"};
        List<Integer> present = new ArrayList<>();
        for (int i = 0; i < firsts.length; i++) if (firsts[i] != null) present.add(i);
        for (int i : present) loopOut.add("sl_scan" + i);
        List<ONNXNode> outs = outer.ctx.operation(new LoopGraph.LoopOp(loopOut.size()), loopIn, loopOut, Map.of());
        int s0 = outs.size() - present.size();
        // scan outputs (passes, unroll, B, 1) -> (passes * unroll, B, 1)
        ONNXRef<?> flat = outer.op(OnnxOps.CONCAT, Map.of("axis", 0), outer.i64(-1), outer.op(OnnxOps.SHAPE, Map.of("start", 0, "end", 2), first.token()));
        for (int j = 0; j < present.size(); j++) {
            int i = present.get(j);
            ONNXRef<?> all = outer.op(OnnxOps.CONCAT, Map.of("axis", 0), outer.op(OnnxOps.UNSQUEEZE, firsts[i], zero),
                    outer.op(OnnxOps.RESHAPE, outs.get(s0 + j), flat));
            outer.output(names[i], all, i == 0 ? DataType.INT64_VALUE : DataType.FLOAT_VALUE, "new", "batch", "1");
        }

        OnnxMl.GraphProto body = body(spec, outer.fp16, fused, mode, unroll, head);
        OnnxMl.GraphProto.Builder gb = outer.ctx.buildGraph().toBuilder();
        for (int i = 0; i < gb.getNodeCount(); i++) {
            if (gb.getNode(i).getOpType().equals("Loop")) {
                gb.setNode(i, gb.getNode(i).toBuilder().addAttribute(OnnxMl.AttributeProto.newBuilder()
                        .setName("body").setType(OnnxMl.AttributeProto.AttributeType.GRAPH).setG(body)));
            }
        }
        return outer.finish(gb.build());
    }

    /** token, behaviour, policy (null when it is the behaviour one), limited (null outside NUCLEUS) */
    private static ONNXRef<?>[] outputsOf(SamplerHead.Draw d) {
        return new ONNXRef<?>[]{d.token(), d.behaviourLogProb(), d.policyLogProb() == d.behaviourLogProb() ? null : d.policyLogProb(), d.limited()};
    }

    /** (1,B,1) float: 1 where any of the tokens (U,B,1) is one of {@code stop_ids}. */
    private static ONNXRef<?> stopped(OnnxPolicyExporter.Builder b, ONNXRef<?> tokens) {
        ONNXRef<?> stops = b.prefix.isEmpty() ? b.in.get(STOP_IDS) : b.ctx.floatInput(STOP_IDS, 1);
        ONNXRef<?> hit = b.op(OnnxOps.CAST, Map.of("to", DataType.FLOAT_VALUE), b.op(OnnxOps.EQUAL, tokens, stops)); // (U,B,S)
        return b.op(OnnxOps.REDUCE_MAX, Map.of("axes", new int[]{0, 2}, "keepdims", 1), hit);
    }

    private static OnnxMl.GraphProto body(ModelSpec spec, boolean fp16, boolean fused, SamplerHead.Mode mode, int unroll, SamplerHead.Head head) {
        int layers = spec.layers(), c = spec.width();
        OnnxPolicyExporter.Builder b = new OnnxPolicyExporter.Builder(spec, fp16, new ONNXContext(), "S_");
        b.ctx.setName("sample_step");
        b.declareWeights(); // placeholders; the names resolve to the outer graph's initializers
        b.ctx.floatInput("S_iter", 1);
        b.ctx.floatInput("S_cond", 1);
        ONNXRef<?> tok = b.ctx.floatInput("S_tok", 1), pos = b.ctx.floatInput("S_pos", 1), mask = b.ctx.floatInput("S_mask", 1);
        ONNXRef<?> done = b.ctx.floatInput("S_done", 1), step = b.ctx.floatInput("S_step", 1);
        int caches = (fused ? 1 : 2) * layers;
        List<ONNXRef<?>> kv = new ArrayList<>();
        for (int l = 0; l < caches; l++) kv.add(b.ctx.floatInput("S_kv" + l, 1));
        // values of the outer graph, by name
        String weightName = head.weight().getReference();
        ONNXRef<?> weight = b.w.containsKey(weightName) ? b.w.get(weightName) : b.ctx.floatInput(weightName, 1);
        ONNXRef<?> bias = b.ctx.floatInput(head.bias().getReference(), 1);
        ONNXRef<?> uniforms = b.ctx.floatInput(UNIFORMS, 1);
        SamplerHead sampler = new SamplerHead(b, mode);
        int act = fp16 ? DataType.FLOAT16_VALUE : DataType.FLOAT_VALUE;
        ONNXRef<?> zero = b.i64(0), maxPos = fused ? b.i64(spec.contextLength() - 1) : null;
        ONNXRef<?> scalarOne = b.op(OnnxOps.RESHAPE, b.i64(1), b.i64()); // the step counter stays a scalar
        List<List<ONNXRef<?>>> scan = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        ONNXRef<?> next = tok, posNext = pos, maskCur = mask, doneCur = done, stepCur = step;
        List<ONNXRef<?>> cache = kv;
        for (int u = 0; u < unroll; u++) {
            ONNXRef<?> ones = b.op(OnnxOps.ADD, b.op(OnnxOps.MUL, next, zero), b.i64(1));
            maskCur = b.op(OnnxOps.CONCAT, Map.of("axis", 1), maskCur, ones);
            ONNXRef<?> last;
            if (fused) {
                ONNXRef<?> mask32 = b.op(OnnxOps.CAST, Map.of("to", DataType.INT32_VALUE), maskCur);
                OnnxPolicyExporter.Builder.Step s = b.transformerFused(next, b.op(OnnxOps.MIN, posNext, maxPos), mask32, cache);
                cache = s.presentK();
                last = b.op(OnnxOps.RESHAPE, s.hidden(), b.i64(-1, c)); // (B,1,C) -> (B,C), after ln_f
            } else {
                OnnxPolicyExporter.Builder.Step s = b.transformer(next, posNext, maskCur, cache.subList(0, layers), cache.subList(layers, 2 * layers));
                cache = new ArrayList<>(s.presentK());
                cache.addAll(s.presentV());
                last = b.ln(b.op(OnnxOps.RESHAPE, s.hidden(), b.i64(-1, c)), "ln_f");
            }
            ONNXRef<?> logits = b.op(OnnxOps.GEMM, Map.of("transB", 1), last, weight, bias);
            SamplerHead.Draw d = sampler.draw(logits, b.op(OnnxOps.GATHER, Map.of("axis", 0), uniforms, stepCur));
            next = d.token();
            stepCur = b.op(OnnxOps.ADD, stepCur, scalarOne);
            posNext = b.op(OnnxOps.ADD, posNext, b.i64(1));
            ONNXRef<?>[] vals = outputsOf(d);
            for (int i = 0; i < vals.length; i++) if (vals[i] != null) scan.get(i).add(b.op(OnnxOps.UNSQUEEZE, vals[i], zero));
        }
        List<ONNXRef<?>> scanAll = new ArrayList<>();
        for (List<ONNXRef<?>> one : scan) {
            scanAll.add(one.isEmpty() ? null : one.size() == 1 ? one.get(0) : b.op(OnnxOps.CONCAT, Map.of("axis", 0), one.toArray(new ONNXRef<?>[0])));
        }
        doneCur = b.op(OnnxOps.MAX, doneCur, stopped(b, scanAll.get(0)));
        ONNXRef<?> allDone = b.op(OnnxOps.REDUCE_MIN, Map.of("axes", new int[]{0, 1, 2}, "keepdims", 0), doneCur);
        ONNXRef<?> cond = b.op(OnnxOps.LESS, allDone, b.ctx.constant("S_half", 0.5f));

        Map<String, String> rename = new HashMap<>();
        List<OnnxMl.ValueInfoProto> outputs = new ArrayList<>();
        rename.put(cond.getReference(), "S_cond_out");
        outputs.add(LoopGraph.typed("S_cond_out", DataType.BOOL_VALUE, true));
        ONNXRef<?>[] carried = {next, posNext, maskCur, doneCur};
        String[] carriedNames = {"S_tok_out", "S_pos_out", "S_mask_out", "S_done_out"};
        int[] carriedTypes = {DataType.INT64_VALUE, DataType.INT64_VALUE, DataType.INT64_VALUE, DataType.FLOAT_VALUE};
        for (int i = 0; i < carried.length; i++) {
            rename.put(carried[i].getReference(), carriedNames[i]);
            outputs.add(LoopGraph.typed(carriedNames[i], carriedTypes[i], false));
        }
        rename.put(stepCur.getReference(), "S_step_out");
        outputs.add(LoopGraph.typed("S_step_out", DataType.INT64_VALUE, true));
        for (int l = 0; l < caches; l++) {
            rename.put(cache.get(l).getReference(), "S_kv_out" + l);
            outputs.add(LoopGraph.typed("S_kv_out" + l, act, false));
        }
        int[] scanTypes = {DataType.INT64_VALUE, DataType.FLOAT_VALUE, DataType.FLOAT_VALUE, DataType.FLOAT_VALUE};
        for (int i = 0; i < scanAll.size(); i++) {
            if (scanAll.get(i) == null) continue;
            rename.put(scanAll.get(i).getReference(), "S_scan" + i);
            outputs.add(LoopGraph.typed("S_scan" + i, scanTypes[i], false));
        }

        OnnxMl.GraphProto.Builder gb = OnnxPolicyExporter.Builder.dropEmpty(b.ctx.buildGraph().toBuilder()).clearInput().clearOutput();
        for (int i = 0; i < gb.getNodeCount(); i++) {
            OnnxMl.NodeProto.Builder nb = gb.getNode(i).toBuilder();
            for (int j = 0; j < nb.getInputCount(); j++) nb.setInput(j, rename.getOrDefault(nb.getInput(j), nb.getInput(j)));
            for (int j = 0; j < nb.getOutputCount(); j++) nb.setOutput(j, rename.getOrDefault(nb.getOutput(j), nb.getOutput(j)));
            gb.setNode(i, nb);
        }
        gb.addInput(LoopGraph.typed("S_iter", DataType.INT64_VALUE, true));
        gb.addInput(LoopGraph.typed("S_cond", DataType.BOOL_VALUE, true));
        gb.addInput(LoopGraph.typed("S_tok", DataType.INT64_VALUE, false));
        gb.addInput(LoopGraph.typed("S_pos", DataType.INT64_VALUE, false));
        gb.addInput(LoopGraph.typed("S_mask", DataType.INT64_VALUE, false));
        gb.addInput(LoopGraph.typed("S_done", DataType.FLOAT_VALUE, false));
        gb.addInput(LoopGraph.typed("S_step", DataType.INT64_VALUE, true));
        for (int l = 0; l < caches; l++) gb.addInput(LoopGraph.typed("S_kv" + l, act, false));
        gb.addAllOutput(outputs);
        return gb.build();
    }
}
