package org.rollstream.policy.ort;

import org.rollstream.policy.FinishReason;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.SampledSequence;
import org.rollstream.policy.Tokenizer;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Greedy generation with the whole decoding loop inside ONNX Runtime (the GENERATE graph: an
 * ONNX Loop carrying the KV cache), one {@code run} per batch: no host round trip per token, which
 * is what makes GPU decoding fast from Java (the Java API has no IO binding). Every row runs the
 * full {@code maxNewTokens}; sequences are cut at their first stop token afterwards. Input tensors
 * and the session result are closed on every path.
 */
public final class OrtLoopGenerator {
    private final OrtPolicy policy;
    private final Tokenizer tokenizer;
    private final OnnxPolicyExporter.Variant variant;

    public OrtLoopGenerator(OrtPolicy policy, Tokenizer tokenizer) {
        this(policy, tokenizer, false);
    }

    /**
     * @param fused use the {@link OnnxPolicyExporter.Variant#GENERATE_FUSED} graph (ONNX Runtime's
     *              fused Attention, fewer nodes per step) instead of {@link OnnxPolicyExporter.Variant#GENERATE}
     */
    public OrtLoopGenerator(OrtPolicy policy, Tokenizer tokenizer, boolean fused) {
        this.policy = policy;
        this.tokenizer = tokenizer;
        this.variant = fused ? OnnxPolicyExporter.Variant.GENERATE_FUSED : OnnxPolicyExporter.Variant.GENERATE;
    }

    public List<List<SampledSequence>> generate(List<int[]> prompts, int groupSize, int maxNewTokens, int[] stopTokenIds) {
        ModelSpec spec = policy.spec();
        int n = prompts.size() * groupSize, lp = 0;
        for (int[] p : prompts) lp = Math.max(lp, p.length);
        int maxNew = Math.min(maxNewTokens, spec.contextLength() - lp);
        if (maxNew < 1) throw new IllegalArgumentException("prompt of " + lp + " tokens leaves no room in context " + spec.contextLength());
        int[] stops = stopTokenIds != null && stopTokenIds.length > 0 ? stopTokenIds : tokenizer != null ? new int[]{tokenizer.eos()} : new int[0];
        long[] ids = new long[n * lp], pos = new long[n * lp], mask = new long[n * lp];
        for (int r = 0; r < n; r++) {
            int[] p = prompts.get(r / groupSize);
            int pad = lp - p.length;
            for (int j = 0; j < p.length; j++) {
                ids[r * lp + pad + j] = p[j];
                pos[r * lp + pad + j] = j;
                mask[r * lp + pad + j] = 1;
            }
        }
        long[] toks;
        float[] lps;
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("input_ids", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(ids), new long[]{n, lp}));
            in.put("position_ids", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(pos), new long[]{n, lp}));
            in.put("attention_mask", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(mask), new long[]{n, lp}));
            in.put("max_new_tokens", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(new long[]{maxNew}), new long[0]));
            if (variant == OnnxPolicyExporter.Variant.GENERATE_FUSED && !FusedLoopGraph.MHA) {
                long[] shape = {2, n, spec.heads(), 0, spec.headDim()};
                for (int l = 0; l < spec.layers(); l++) in.put("past_" + l, policy.emptyTensor(shape));
            } else {
                in.putAll(policy.emptyCache(n));
            }
            try (OrtSession.Result r = policy.session(variant).run(in)) {
                OnnxTensor t = (OnnxTensor) r.get("tokens").get();
                LongBuffer lb = t.getLongBuffer();
                toks = new long[lb.remaining()];
                lb.get(toks);
                lps = OrtPolicy.toFloats((OnnxTensor) r.get("token_logprobs").get());
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime generation failed: " + e.getMessage(), e);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
        List<List<SampledSequence>> out = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            List<SampledSequence> group = new ArrayList<>();
            for (int g = 0; g < groupSize; g++) {
                int r = p * groupSize + g;
                int[] seq = new int[maxNew];
                float[] lp2 = new float[maxNew];
                int len = maxNew;
                FinishReason why = FinishReason.LENGTH;
                for (int k = 0; k < maxNew; k++) { // tokens are (new, batch, 1)
                    seq[k] = (int) toks[k * n + r];
                    lp2[k] = lps[k * n + r];
                    int tk = seq[k];
                    if (Arrays.stream(stops).anyMatch(s -> s == tk)) {
                        len = k + 1;
                        why = FinishReason.STOP;
                        break;
                    }
                }
                int[] ts = Arrays.copyOf(seq, len);
                String text = tokenizer == null ? null : tokenizer.decode(why == FinishReason.STOP ? Arrays.copyOf(ts, len - 1) : ts);
                // greedy: the behaviour distribution is a point mass (log 1 = 0); the raw policy's log-probs come from the graph
                group.add(new SampledSequence(ts, text, new float[len], Arrays.copyOf(lp2, len), why));
            }
            out.add(group);
        }
        return out;
    }
}
