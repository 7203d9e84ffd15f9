package org.rollstream.policy.ort;

import org.rollstream.policy.ModelSpec;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import org.tribuo.util.onnx.ONNXNode;
import org.tribuo.util.onnx.ONNXRef;

import java.util.List;
import java.util.Map;

/**
 * One sampling step as ONNX nodes: from the logits of a decoding step and one uniform number per
 * row to the drawn token, its behaviour log-prob (under the distribution that drew it) and its
 * policy log-prob (log-softmax of the raw logits, temperature 1). Built into the prefill graph
 * and into each step of the decoding Loop of {@link SamplingLoopGraph}, so no step leaves the
 * device.
 *
 * <p>Every mode draws by inverse CDF with the row's uniform u in (0,1): the token is the first
 * whose cumulative probability reaches u times the kept mass. ONNX Runtime's CumSum is quadratic
 * in the axis length on CUDA, so cumulative sums are never taken over the vocabulary: the
 * (padded) vocabulary is cut into blocks of {@link #BLOCK}; the block is found from the
 * cumulative block sums, then the token within that one block.
 *
 * <p>TOP_K and NUCLEUS take their K candidates with TopK (sorted), then cut the nucleus from
 * the candidates' cumulative probabilities and draw among the kept ones.
 *
 * <p>The logits come in padded to a multiple of {@link #BLOCK} (the padding columns carry a large
 * negative bias, so their probability is 0).
 */
final class SamplerHead {
    /** block length of the two-level cumulative sums (and the vocabulary padding) */
    static final int BLOCK = 256;

    enum Mode {
        /** temperature 1, whole vocabulary: one Softmax gives both the draw and both log-probs */
        FULL,
        /** temperature T, whole vocabulary: Softmax(logits/T) to draw, LogSoftmax(logits) for the policy log-prob */
        TEMPERED,
        /**
         * the k most probable tokens (TopK), softmax(logits/T) renormalised over them, then the
         * nucleus of that renormalised distribution (top-k before top-p, as Hugging Face does);
         * k = 1 is greedy
         */
        TOP_K,
        /**
         * the nucleus of softmax(logits/T) over the whole vocabulary, searched among the K most
         * probable tokens (K a cap); exact when the nucleus fits in K, else cut to the K tokens
         * (and flagged)
         */
        NUCLEUS
    }

    /**
     * Names of the per-call values the head reads (graph inputs, visible inside the Loop body as
     * outer-scope values): {@code inv_temperature} float scalar; {@code top_p} float scalar (above
     * 1 = no nucleus); {@code top_k} int64 (1) the TopK width K' (a multiple of the block, or at
     * most one block); {@code top_k_mask} float (K') 1 for ranks below the real k, else 0;
     * {@code top_k_blocks} int64 (3) = [0, K'/c, c], the block shape of K'.
     */
    static final String INV_TEMPERATURE = "inv_temperature", TOP_P = "top_p", TOP_K = "top_k", TOP_K_MASK = "top_k_mask",
            TOP_K_BLOCKS = "top_k_blocks";

    /**
     * token (B,1) int64; behaviour and policy log-probs (B,1) float (the same reference in FULL
     * mode); limited (B,1) float, NUCLEUS mode only (else null): 1 when the K candidates held
     * less than top_p of the mass, so the cap cut the nucleus.
     */
    record Draw(ONNXRef<?> token, ONNXRef<?> behaviourLogProb, ONNXRef<?> policyLogProb, ONNXRef<?> limited) {
    }

    private final OnnxPolicyExporter.Builder b;
    private final Map<String, ONNXRef<?>> placeholders = new java.util.HashMap<>();
    private final Mode mode;
    private final int vocab, padded;

    SamplerHead(OnnxPolicyExporter.Builder b, Mode mode) {
        this.b = b;
        this.mode = mode;
        this.vocab = b.spec.vocabSize();
        this.padded = paddedVocab(b.spec);
    }

    static int paddedVocab(ModelSpec spec) {
        return (spec.vocabSize() + BLOCK - 1) / BLOCK * BLOCK;
    }

    /** Reference to a value of the enclosing graph (a graph input), declared as a placeholder when b builds a Loop body. */
    private ONNXRef<?> outer(String name) {
        if (b.prefix.isEmpty()) return b.in.get(name);
        return placeholders.computeIfAbsent(name, n -> b.ctx.floatInput(n, 1));
    }

    private ONNXRef<?> f32(float v) {
        return b.ctx.constant(b.prefix + "c", v);
    }

    private ONNXRef<?> toFloat(ONNXRef<?> x) {
        return b.op(OnnxOps.CAST, Map.of("to", DataType.FLOAT_VALUE), x);
    }

    private ONNXRef<?> toLong(ONNXRef<?> x) {
        return b.op(OnnxOps.CAST, Map.of("to", DataType.INT64_VALUE), x);
    }

    private ONNXRef<?> sum(ONNXRef<?> x, long axis) {
        return b.op(OnnxOps.REDUCE_SUM, Map.of("keepdims", 1), x, b.i64(axis));
    }

    /** Number of entries of each row of x (B,N) below the row's limit (B,1), as int64 (B,1). */
    private ONNXRef<?> countBelow(ONNXRef<?> x, ONNXRef<?> limit) {
        return toLong(sum(toFloat(b.op(OnnxOps.LESS, x, limit)), 1));
    }

    private ONNXRef<?> at(ONNXRef<?> x, ONNXRef<?> index) {
        return b.op(OnnxOps.GATHER_ELEMENTS, Map.of("axis", 1), x, index);
    }

    /**
     * @param logits (B, padded vocabulary) in the graph's compute type
     * @param u      (B,1) float uniforms in (0,1)
     */
    Draw draw(ONNXRef<?> logits, ONNXRef<?> u) {
        return mode == Mode.TOP_K || mode == Mode.NUCLEUS ? truncated(logits, u) : full(logits, u);
    }

    private ONNXRef<?> logits32(ONNXRef<?> logits) {
        return b.fp16 ? toFloat(logits) : logits;
    }

    private Draw full(ONNXRef<?> logits, ONNXRef<?> u) {
        int c = BLOCK, r = padded / BLOCK;
        ONNXRef<?> x = logits32(logits);
        ONNXRef<?> scaled = mode == Mode.TEMPERED ? b.op(OnnxOps.MUL, x, outer(INV_TEMPERATURE)) : x;
        ONNXRef<?> p = b.op(OnnxOps.SOFTMAX, Map.of("axis", -1), scaled);               // (B,Vp)
        ONNXRef<?> blocks = b.op(OnnxOps.RESHAPE, p, b.i64(0, r, c));                    // (B,R,C)
        ONNXRef<?> blockMass = b.op(OnnxOps.REDUCE_SUM, Map.of("keepdims", 0), blocks, b.i64(2)); // (B,R)
        ONNXRef<?> blockCum = b.op(OnnxOps.CUMSUM, blockMass, b.i64(1));                 // (B,R), R is short
        ONNXRef<?> total = b.op(OnnxOps.SLICE, blockCum, b.i64(r - 1), b.i64(r), b.i64(1)); // (B,1)
        ONNXRef<?> target = b.op(OnnxOps.MUL, u, total);
        ONNXRef<?> blk = b.op(OnnxOps.MIN, countBelow(blockCum, target), b.i64(r - 1));  // (B,1)
        ONNXRef<?> before = b.op(OnnxOps.SUB, at(blockCum, blk), at(blockMass, blk));     // mass of the blocks before
        ONNXRef<?> rowIdx = b.op(OnnxOps.EXPAND, b.op(OnnxOps.UNSQUEEZE, blk, b.i64(2)), b.i64(1, 1, c)); // (B,1,C)
        ONNXRef<?> inner = b.op(OnnxOps.RESHAPE, b.op(OnnxOps.GATHER_ELEMENTS, Map.of("axis", 1), blocks, rowIdx), b.i64(0, c));
        ONNXRef<?> cum = b.op(OnnxOps.ADD, b.op(OnnxOps.CUMSUM, inner, b.i64(1)), before); // (B,C)
        ONNXRef<?> pos = b.op(OnnxOps.MIN, countBelow(cum, target), b.i64(c - 1));
        ONNXRef<?> token = b.op(OnnxOps.MIN, b.op(OnnxOps.ADD, b.op(OnnxOps.MUL, blk, b.i64(c)), pos), b.i64(vocab - 1));
        ONNXRef<?> behaviour = b.op(OnnxOps.SUB, b.op(OnnxOps.LOG, at(p, token)), b.op(OnnxOps.LOG, total));
        ONNXRef<?> policy = mode == Mode.TEMPERED ? at(b.op(OnnxOps.LOG_SOFTMAX, Map.of("axis", -1), x), token) : behaviour;
        return new Draw(token, behaviour, policy, null);
    }

    private Draw truncated(ONNXRef<?> logits, ONNXRef<?> u) {
        List<ONNXNode> top = b.ctx.operation(OnnxOps.TOPK, List.of(logits, outer(TOP_K)),
                List.of(b.prefix + "samp_topv", b.prefix + "samp_topi"), Map.of("axis", -1, "largest", 1, "sorted", 1));
        ONNXRef<?> idx = top.get(1);                                                        // (B,K') most probable first
        ONNXRef<?> mask = outer(TOP_K_MASK);
        ONNXRef<?> x = logits32(logits);
        ONNXRef<?> p, logP; // (B,K'): the candidates' probabilities (0 past k) and their logs
        if (mode == Mode.TOP_K) { // renormalised over the k candidates
            ONNXRef<?> vals = logits32(top.get(0));
            ONNXRef<?> max = b.op(OnnxOps.SLICE, vals, b.i64(0), b.i64(1), b.i64(1));
            ONNXRef<?> d = b.op(OnnxOps.MUL, b.op(OnnxOps.SUB, vals, max), outer(INV_TEMPERATURE));
            ONNXRef<?> e = b.op(OnnxOps.MUL, b.op(OnnxOps.EXP, d), mask);
            ONNXRef<?> topMass = sum(e, 1);
            p = b.op(OnnxOps.DIV, e, topMass);
            logP = b.op(OnnxOps.SUB, d, b.op(OnnxOps.LOG, topMass));
        } else { // normalised over the whole vocabulary, so the nucleus is exact whenever it fits in the K candidates
            ONNXRef<?> full = b.op(OnnxOps.SOFTMAX, Map.of("axis", -1), b.op(OnnxOps.MUL, x, outer(INV_TEMPERATURE)));
            p = b.op(OnnxOps.MUL, at(full, idx), mask);
            logP = b.op(OnnxOps.LOG, p);
        }
        ONNXRef<?> blocks = b.op(OnnxOps.RESHAPE, p, outer(TOP_K_BLOCKS));                 // (B,R',C')
        ONNXRef<?> cumIn = b.op(OnnxOps.CUMSUM, blocks, b.i64(2));
        ONNXRef<?> blockMass = b.op(OnnxOps.SLICE, cumIn, b.i64(-1), b.i64(Long.MAX_VALUE), b.i64(2)); // (B,R',1)
        ONNXRef<?> before = b.op(OnnxOps.CUMSUM, Map.of("exclusive", 1), blockMass, b.i64(1));
        ONNXRef<?> incl = b.op(OnnxOps.RESHAPE, b.op(OnnxOps.ADD, cumIn, before), b.i64(0, -1)); // (B,K') inclusive
        ONNXRef<?> excl = b.op(OnnxOps.SUB, incl, p);
        // nucleus: a token is kept while the mass strictly before it is below top_p (so the first always is)
        ONNXRef<?> keep = b.op(OnnxOps.MUL, toFloat(b.op(OnnxOps.LESS, excl, outer(TOP_P))), mask);
        ONNXRef<?> kept = sum(keep, 1);                                                     // (B,1) >= 1
        ONNXRef<?> last = b.op(OnnxOps.SUB, toLong(kept), b.i64(1));
        ONNXRef<?> keptMass = at(incl, last);
        ONNXRef<?> target = b.op(OnnxOps.MUL, u, keptMass);
        ONNXRef<?> pos = b.op(OnnxOps.MIN, countBelow(incl, target), last);
        ONNXRef<?> token = at(idx, pos);
        ONNXRef<?> behaviour = b.op(OnnxOps.SUB, at(logP, pos), b.op(OnnxOps.LOG, keptMass));
        ONNXRef<?> policy = at(b.op(OnnxOps.LOG_SOFTMAX, Map.of("axis", -1), x), token);
        ONNXRef<?> limited = mode == Mode.NUCLEUS ? toFloat(b.op(OnnxOps.LESS, sum(p, 1), outer(TOP_P))) : null;
        return new Draw(token, behaviour, policy, limited);
    }

    /**
     * The padded tied head (also GENERATE_FUSED's greedy one): wte (V,C) padded to (Vp,C) with
     * zero rows, and the bias that keeps the padding at probability 0 (and out of any TopK).
     */
    record Head(ONNXRef<?> weight, ONNXRef<?> bias) {
    }

    static Head head(OnnxPolicyExporter.Builder outer) {
        int v = outer.spec.vocabSize(), vp = paddedVocab(outer.spec);
        ONNXRef<?> wte = outer.w.get("wte.weight");
        ONNXRef<?> weight = vp == v ? wte : outer.op(OnnxOps.PAD, wte, outer.i64(0, 0, vp - v, 0));
        float[] bias = new float[vp];
        for (int i = v; i < vp; i++) bias[i] = outer.fp16 ? -6e4f : ModelSpec.MASK_VALUE;
        ONNXRef<?> bias32 = outer.ctx.array(outer.prefix + "vocab_pad_bias", bias);
        return new Head(weight, outer.fp16 ? outer.op(OnnxOps.CAST, Map.of("to", DataType.FLOAT16_VALUE), bias32) : bias32);
    }
}
