package org.rollstream.policy.ort;

import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.Weights;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import org.tribuo.util.onnx.ONNXContext;
import org.tribuo.util.onnx.ONNXNode;
import org.tribuo.util.onnx.ONNXRef;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the ONNX graph of the policy for ONNX Runtime with Tribuo's graph builder. The graph
 * holds no weight values: every parameter is an initializer marked as external data, and
 * {@link OrtPolicy} supplies the tensors of a snapshot when it creates a session
 * ({@code SessionOptions.addExternalInitializers}), so one graph serves every weights version.
 *
 * <p>Runtime inputs (B batch, S new tokens, P cached tokens):
 * <ul>
 *   <li>{@code input_ids} int64 (B,S); {@code position_ids} int64 (B,S)</li>
 *   <li>{@code attention_mask} int64 (B,P+S): 1 = real token, 0 = padding (left padding)</li>
 *   <li>{@code past_key_i}, {@code past_value_i} (B,H,P,D) for each layer i; P may be 0</li>
 * </ul>
 * Outputs: {@code logits} (B,S,V) for {@link Variant#FORWARD}, or only the last position's
 * {@code last_logits} (B,V) for {@link Variant#STEP}; and {@code present_key_i} /
 * {@code present_value_i} (B,H,P+S,D).
 */
public final class OnnxPolicyExporter {

    public enum Variant {
        /** logits for every position (parity tests, scoring). */
        FORWARD,
        /** logits of the last position only (prefill and decode steps of the sampler). */
        STEP,
        /**
         * prefill then greedy decoding inside the graph (an ONNX Loop carrying the KV cache), so
         * the cache never leaves the device: see {@link OrtLoopGenerator}.
         */
        GENERATE,
        /**
         * as GENERATE, with ONNX Runtime's fused {@code com.microsoft} Attention (merged QKV, raw
         * padding mask, one (2,B,H,P,D) cache per layer, inputs {@code past_i}), no shape
         * computations inside the loop and a Gemm head: far fewer nodes per decoding step.
         */
        GENERATE_FUSED,
        /** prefill then sampling inside an ONNX Loop (see {@link SamplingLoopGraph}): temperature 1, whole vocabulary */
        SAMPLE,
        /** as SAMPLE at any temperature (input {@code inv_temperature}) */
        SAMPLE_TEMPERED,
        /** as SAMPLE with top-k (then top-p over the renormalised top-k), any temperature; top-k 1 is greedy */
        SAMPLE_TOP_K,
        /** as SAMPLE with top-p (nucleus) over the whole distribution, searched among a cap of candidates, any temperature */
        SAMPLE_NUCLEUS,
        /** SAMPLE over GENERATE_FUSED's fused operators and unrolled Loop (the fast one on GPU) */
        FUSED_SAMPLE,
        /** SAMPLE_TEMPERED over the fused operators */
        FUSED_SAMPLE_TEMPERED,
        /** SAMPLE_TOP_K over the fused operators */
        FUSED_SAMPLE_TOP_K,
        /** SAMPLE_NUCLEUS over the fused operators */
        FUSED_SAMPLE_NUCLEUS;

        /** whether the graph uses ONNX Runtime's com.microsoft fused operators (and their (2,B,H,P,D) caches {@code past_i}) */
        public boolean fused() {
            return this == GENERATE_FUSED || name().startsWith("FUSED_");
        }

        /** the in-graph sampling mode, or null for the variants that do not sample */
        SamplerHead.Mode samplingMode() {
            if (!name().contains("SAMPLE")) return null;
            for (SamplerHead.Mode m : SamplerHead.Mode.values()) if (name().endsWith("SAMPLE_" + m.name())) return m;
            return SamplerHead.Mode.FULL;
        }

        /** the sampling variant for a mode, over the fused operators or not */
        static Variant sampling(SamplerHead.Mode mode, boolean fused) {
            return switch (mode) {
                case FULL -> fused ? FUSED_SAMPLE : SAMPLE;
                case TEMPERED -> fused ? FUSED_SAMPLE_TEMPERED : SAMPLE_TEMPERED;
                case TOP_K -> fused ? FUSED_SAMPLE_TOP_K : SAMPLE_TOP_K;
                case NUCLEUS -> fused ? FUSED_SAMPLE_NUCLEUS : SAMPLE_NUCLEUS;
            };
        }
    }

    /** Stand-in location of external initializers; never read, the session supplies the data. */
    public static final String EXTERNAL_LOCATION = "rollstream-weights-supplied-at-session-creation";

    private OnnxPolicyExporter() {
    }

    public static byte[] export(ModelSpec spec, Variant variant) {
        return export(spec, variant, false);
    }

    /** @param fp16 weights, activations and KV cache in float16 (logits too); for GPU. */
    public static byte[] export(ModelSpec spec, Variant variant, boolean fp16) {
        return buildModel(spec, variant, fp16).toByteArray();
    }

    /**
     * The graph with every parameter a graph input (same name, type and shape) instead of an external
     * initializer: one session then serves every weights version, each run fed the version's tensors
     * ({@link WeightFedSessions}).
     */
    public static byte[] exportWithWeightInputs(ModelSpec spec, Variant variant, boolean fp16) {
        return weightsAsInputs(buildModel(spec, variant, fp16)).toByteArray();
    }

    static OnnxMl.ModelProto weightsAsInputs(OnnxMl.ModelProto model) {
        OnnxMl.GraphProto.Builder g = model.getGraph().toBuilder().clearInitializer();
        for (OnnxMl.TensorProto t : model.getGraph().getInitializerList()) {
            boolean weight = t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL
                    && t.getExternalDataList().stream().anyMatch(kv -> kv.getValue().equals(EXTERNAL_LOCATION));
            if (!weight) {
                g.addInitializer(t);
                continue;
            }
            OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
            for (long d : t.getDimsList()) shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            g.addInput(OnnxMl.ValueInfoProto.newBuilder().setName(t.getName()).setType(OnnxMl.TypeProto.newBuilder()
                    .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(t.getDataType()).setShape(shape))));
        }
        return model.toBuilder().setGraph(g).build();
    }

    static OnnxMl.ModelProto buildModel(ModelSpec spec, Variant variant, boolean fp16) {
        Builder b = new Builder(spec, fp16);
        OnnxMl.GraphProto g = b.build(variant);
        return OnnxMl.ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("rollstream-policy")
                .setModelVersion(1)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OnnxOps.OPSET))
                .addAllOpsetImport(variant.fused()
                        ? List.of(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1).build()) : List.of())
                .setGraph(g)
                .build();
    }

    /** Graph under construction: Tribuo context plus the names of inputs/outputs to type later. */
    static final class Builder {
        final ModelSpec spec;
        final boolean fp16;
        final ONNXContext ctx;
        final String prefix;
        final Map<String, ONNXRef<?>> w = new LinkedHashMap<>();
        final Map<String, ONNXRef<?>> in = new LinkedHashMap<>();
        final List<String> outputs = new ArrayList<>();
        /** inputs and outputs declared with their types where they are made (the sampling graphs') */
        final Map<String, OnnxMl.ValueInfoProto> typedInputs = new LinkedHashMap<>(), typedOutputs = new LinkedHashMap<>();
        /** caches are the fused Attention's (2,B,H,P,D) {@code past_i}, not past_key_i/past_value_i */
        boolean fusedCache;

        Builder(ModelSpec spec, boolean fp16) {
            this(spec, fp16, new ONNXContext(), "");
        }

        /** {@code prefix} keeps node names of a Loop body distinct from the outer graph's. */
        Builder(ModelSpec spec, boolean fp16, ONNXContext ctx, String prefix) {
            this.spec = spec;
            this.fp16 = fp16;
            this.ctx = ctx;
            this.prefix = prefix;
        }

        ONNXNode op(OnnxOps op, Map<String, Object> attrs, ONNXRef<?>... inputs) {
            return ctx.operation(op, List.of(inputs), prefix + op.getOpName().toLowerCase(), attrs);
        }

        ONNXNode op(OnnxOps op, ONNXRef<?>... inputs) {
            return op(op, Map.of(), inputs);
        }

        ONNXRef<?> i64(long... v) {
            return ctx.array(prefix + "c", v);
        }

        /** A float scalar constant in the graph's compute type. */
        ONNXRef<?> f(float v) {
            ONNXRef<?> c = ctx.constant(prefix + "c", v);
            return fp16 ? op(OnnxOps.CAST, Map.of("to", DataType.FLOAT16_VALUE), c) : c;
        }

        ONNXRef<?> input(String name) {
            ONNXRef<?> r = ctx.floatInput(name, 1); // typed properly in finish()
            in.put(name, r);
            return r;
        }

        /** An input of the given element type and dimensions (numbers or symbolic names). */
        ONNXRef<?> input(String name, int type, String... dims) {
            ONNXRef<?> r = ctx.floatInput(name, 1);
            in.put(name, r);
            typedInputs.put(name, value(name, type, dims));
            return r;
        }

        /** An output of the given element type and dimensions. */
        void output(String name, ONNXRef<?> value, int type, String... dims) {
            ctx.assignTo(value, ctx.floatOutput(name, 1));
            typedOutputs.put(name, value(name, type, dims));
        }

        void output(String name, ONNXRef<?> value) {
            ctx.assignTo(value, ctx.floatOutput(name, 1));
            outputs.add(name);
        }

        /** Transformer output for one call: logits and the grown KV cache. */
        record Step(ONNXRef<?> hidden, List<ONNXRef<?>> presentK, List<ONNXRef<?>> presentV) {
        }

        void declareWeights() {
            spec.parameterShapes().keySet().forEach(n -> w.put(n, ctx.floatInput(n, 1)));
        }

        /** Additive attention mask (B,1,S,P+S): causal, and padding keys from attention_mask (B,P+S). */
        ONNXRef<?> additiveMask(ONNXRef<?> ids, ONNXRef<?> attn, ONNXRef<?> pastK0) {
            ONNXRef<?> pLen = op(OnnxOps.SHAPE, Map.of("start", 2, "end", 3), pastK0);   // [P]
            ONNXRef<?> sLen = op(OnnxOps.SHAPE, Map.of("start", 1, "end", 2), ids);            // [S]
            ONNXRef<?> total = op(OnnxOps.ADD, pLen, sLen);
            ONNXRef<?> scalar = i64(); // empty shape for Reshape to a scalar
            ONNXRef<?> one = op(OnnxOps.RESHAPE, i64(1), scalar);
            ONNXRef<?> pS = op(OnnxOps.RESHAPE, pLen, scalar), totS = op(OnnxOps.RESHAPE, total, scalar);
            ONNXRef<?> kpos = op(OnnxOps.RANGE, op(OnnxOps.RESHAPE, i64(0), scalar), totS, one);
            ONNXRef<?> qpos = op(OnnxOps.RANGE, pS, totS, one);
            ONNXRef<?> future = op(OnnxOps.GREATER, op(OnnxOps.UNSQUEEZE, kpos, i64(0)), op(OnnxOps.UNSQUEEZE, qpos, i64(1))); // (S,P+S)
            ONNXRef<?> padded = op(OnnxOps.UNSQUEEZE, op(OnnxOps.EQUAL, attn, i64(0)), i64(1, 2));                          // (B,1,1,P+S)
            ONNXRef<?> blocked = op(OnnxOps.OR, future, padded);
            return op(OnnxOps.WHERE, blocked, f(maskValue()), f(0f));
        }

        float maskValue() {
            return fp16 ? -3e4f : ModelSpec.MASK_VALUE;
        }

        /** The transformer over new tokens (B,S) with a past cache; returns final hidden states (B,S,C) after ln_f. */
        Step transformer(ONNXRef<?> ids, ONNXRef<?> posIds, ONNXRef<?> attn, List<ONNXRef<?>> pastK, List<ONNXRef<?>> pastV) {
            int c = spec.width(), h = spec.heads(), d = spec.headDim();
            ONNXRef<?> mask = additiveMask(ids, attn, pastK.get(0));


            ONNXRef<?> x = op(OnnxOps.ADD, op(OnnxOps.GATHER, Map.of("axis", 0), w.get("wte.weight"), ids),
                    op(OnnxOps.GATHER, Map.of("axis", 0), w.get("wpe.weight"), posIds));
            ONNXRef<?> headShape = i64(0, 0, h, d), mergeShape = i64(0, 0, c);
            ONNXRef<?> scale = f((float) (1.0 / Math.sqrt(d)));
            int[] toHeads = {0, 2, 1, 3};
            List<ONNXRef<?>> presK = new ArrayList<>(), presV = new ArrayList<>();
            for (int l = 0; l < spec.layers(); l++) {
                String p = "h." + l + ".";
                ONNXRef<?> a = ln(x, p + "ln_1");
                ONNXRef<?> qkv = op(OnnxOps.ADD, op(OnnxOps.MATMUL, a, w.get(p + "attn.c_attn.weight")), w.get(p + "attn.c_attn.bias"));
                List<ONNXNode> parts = ctx.operation(OnnxOps.SPLIT3, List.of(qkv, i64(c, c, c)),
                        List.of(prefix + "q", prefix + "k", prefix + "v"), Map.of("axis", 2));
                ONNXRef<?> q = op(OnnxOps.TRANSPOSE, Map.of("perm", toHeads), op(OnnxOps.RESHAPE, parts.get(0), headShape));
                ONNXRef<?> k = op(OnnxOps.TRANSPOSE, Map.of("perm", toHeads), op(OnnxOps.RESHAPE, parts.get(1), headShape));
                ONNXRef<?> v = op(OnnxOps.TRANSPOSE, Map.of("perm", toHeads), op(OnnxOps.RESHAPE, parts.get(2), headShape));
                k = op(OnnxOps.CONCAT, Map.of("axis", 2), pastK.get(l), k);
                v = op(OnnxOps.CONCAT, Map.of("axis", 2), pastV.get(l), v);
                presK.add(k);
                presV.add(v);
                ONNXRef<?> scores = op(OnnxOps.MATMUL, op(OnnxOps.MUL, q, scale), op(OnnxOps.TRANSPOSE, Map.of("perm", new int[]{0, 1, 3, 2}), k));
                ONNXRef<?> att = op(OnnxOps.SOFTMAX, Map.of("axis", -1), op(OnnxOps.ADD, scores, mask));
                ONNXRef<?> y = op(OnnxOps.RESHAPE, op(OnnxOps.TRANSPOSE, Map.of("perm", toHeads), op(OnnxOps.MATMUL, att, v)), mergeShape);
                y = op(OnnxOps.ADD, op(OnnxOps.MATMUL, y, w.get(p + "attn.c_proj.weight")), w.get(p + "attn.c_proj.bias"));
                x = op(OnnxOps.ADD, x, y);
                ONNXRef<?> m = ln(x, p + "ln_2");
                m = op(OnnxOps.ADD, op(OnnxOps.MATMUL, m, w.get(p + "mlp.c_fc.weight")), w.get(p + "mlp.c_fc.bias"));
                m = gelu(m);
                m = op(OnnxOps.ADD, op(OnnxOps.MATMUL, m, w.get(p + "mlp.c_proj.weight")), w.get(p + "mlp.c_proj.bias"));
                x = op(OnnxOps.ADD, x, m);
            }
            return new Step(x, presK, presV);
        }

        /**
         * The transformer with ONNX Runtime's fused com.microsoft operators: Attention (merged QKV,
         * {@code mask32} the int32 0/1 padding mask (B,P+S), {@code past} the (2,B,H,P,D) caches),
         * SkipLayerNormalization (residual add, projection bias and the next LayerNorm in one) and
         * FastGelu with the MLP bias. No shape computations. Returns the hidden states (B,S,C)
         * <em>after</em> ln_f and the presents (2,B,H,P+S,D) in presentK.
         */
        Step transformerFused(ONNXRef<?> ids, ONNXRef<?> posIds, ONNXRef<?> mask32, List<ONNXRef<?>> past) {
            return transformerFused(ids, posIds, mask32, past, null);
        }

        /**
         * With {@code pastV} non-null: com.microsoft MultiHeadAttention instead of Attention, with
         * {@code mask} the additive bias (B,1,S,P+S), caches past_key/past_value (B,H,P,D), and the
         * presents in presentK/presentV.
         */
        Step transformerFused(ONNXRef<?> ids, ONNXRef<?> posIds, ONNXRef<?> mask32, List<ONNXRef<?>> past, List<ONNXRef<?>> pastV) {
            ONNXRef<?> x = op(OnnxOps.ADD, op(OnnxOps.GATHER, Map.of("axis", 0), w.get("wte.weight"), ids),
                    op(OnnxOps.GATHER, Map.of("axis", 0), w.get("wpe.weight"), posIds));
            ONNXRef<?> a = ln(x, "h.0.ln_1");
            List<ONNXRef<?>> pres = new ArrayList<>(), presV = new ArrayList<>();
            int layers = spec.layers(), c = spec.width();
            for (int l = 0; l < layers; l++) {
                String p = "h." + l + ".";
                if (pastV != null) {
                    ONNXRef<?> qkv = op(OnnxOps.MATMUL, a, w.get(p + "attn.c_attn.weight"));
                    List<ONNXNode> parts = ctx.operation(OnnxOps.SPLIT3, List.of(qkv, i64(c, c, c)),
                            List.of(prefix + "q", prefix + "k", prefix + "v"), Map.of("axis", 2));
                    List<ONNXNode> mha = ctx.operation(OnnxOps.MS_MHA, List.of(parts.get(0), parts.get(1), parts.get(2),
                                    w.get(p + "attn.c_attn.bias"), empty(), mask32, past.get(l), pastV.get(l)),
                            List.of(prefix + "mha", prefix + "present_k", prefix + "present_v"), Map.of("num_heads", spec.heads()));
                    pres.add(mha.get(1));
                    presV.add(mha.get(2));
                    ONNXRef<?> y = op(OnnxOps.MATMUL, mha.get(0), w.get(p + "attn.c_proj.weight"));
                    List<ONNXNode> n2 = skipLn(x, y, p + "ln_2", w.get(p + "attn.c_proj.bias"));
                    x = n2.get(3);
                    ONNXRef<?> m = ctx.operation(OnnxOps.MS_FAST_GELU, List.of(op(OnnxOps.MATMUL, n2.get(0), w.get(p + "mlp.c_fc.weight")),
                            w.get(p + "mlp.c_fc.bias")), prefix + "fastgelu", Map.of());
                    m = op(OnnxOps.MATMUL, m, w.get(p + "mlp.c_proj.weight"));
                    List<ONNXNode> n1 = skipLn(x, m, l + 1 < layers ? "h." + (l + 1) + ".ln_1" : "ln_f", w.get(p + "mlp.c_proj.bias"));
                    x = n1.get(3);
                    a = n1.get(0);
                    continue;
                }
                List<ONNXNode> att = ctx.operation(OnnxOps.MS_ATTENTION,
                        List.of(a, w.get(p + "attn.c_attn.weight"), w.get(p + "attn.c_attn.bias"), mask32, past.get(l)),
                        List.of(prefix + "attn", prefix + "present"), Map.of("num_heads", spec.heads(), "unidirectional", 1));
                pres.add(att.get(1));
                ONNXRef<?> y = op(OnnxOps.MATMUL, att.get(0), w.get(p + "attn.c_proj.weight"));
                List<ONNXNode> n2 = skipLn(x, y, p + "ln_2", w.get(p + "attn.c_proj.bias"));
                x = n2.get(3);
                ONNXRef<?> m = ctx.operation(OnnxOps.MS_FAST_GELU, List.of(op(OnnxOps.MATMUL, n2.get(0), w.get(p + "mlp.c_fc.weight")),
                        w.get(p + "mlp.c_fc.bias")), prefix + "fastgelu", Map.of());
                m = op(OnnxOps.MATMUL, m, w.get(p + "mlp.c_proj.weight"));
                List<ONNXNode> n1 = skipLn(x, m, l + 1 < layers ? "h." + (l + 1) + ".ln_1" : "ln_f", w.get(p + "mlp.c_proj.bias"));
                x = n1.get(3);
                a = n1.get(0);
            }
            return new Step(a, pres, presV);
        }

        /** Placeholder for an omitted optional input; renamed to "" by {@link #dropEmpty}. */
        ONNXRef<?> empty() {
            return ctx.floatInput(EMPTY, 1);
        }

        static final String EMPTY = "__omitted_optional_input__";

        static OnnxMl.GraphProto.Builder dropEmpty(OnnxMl.GraphProto.Builder gb) {
            for (int i = 0; i < gb.getNodeCount(); i++) {
                OnnxMl.NodeProto.Builder nb = gb.getNode(i).toBuilder();
                for (int j = 0; j < nb.getInputCount(); j++) if (nb.getInput(j).equals(EMPTY)) nb.setInput(j, "");
                gb.setNode(i, nb);
            }
            for (int i = gb.getInputCount() - 1; i >= 0; i--) if (gb.getInput(i).getName().equals(EMPTY)) gb.removeInput(i);
            return gb;
        }

        /** SkipLayerNormalization: outputs LN(x + y + bias), mean, inv std, and x + y + bias. */
        List<ONNXNode> skipLn(ONNXRef<?> x, ONNXRef<?> y, String name, ONNXRef<?> bias) {
            return ctx.operation(OnnxOps.MS_SKIP_LAYER_NORM, List.of(x, y, w.get(name + ".weight"), w.get(name + ".bias"), bias),
                    List.of(prefix + "skipln", prefix + "skipln_mean", prefix + "skipln_istd", prefix + "skipln_sum"),
                    Map.of("epsilon", ModelSpec.LN_EPS));
        }

        /** Logits of the last position (B,V) from hidden states (B,S,C). */
        ONNXRef<?> lastLogits(ONNXRef<?> x) {
            ONNXRef<?> last = op(OnnxOps.GATHER, Map.of("axis", 1), x, op(OnnxOps.RESHAPE, i64(-1), i64())); // (B,C)
            return op(OnnxOps.MATMUL, ln(last, "ln_f"), wteT());
        }

        /** Logits of the last position (B,V) from hidden states (B,S,C) that already went through ln_f. */
        ONNXRef<?> lastLogitsNormed(ONNXRef<?> x) {
            ONNXRef<?> last = op(OnnxOps.GATHER, Map.of("axis", 1), x, op(OnnxOps.RESHAPE, i64(-1), i64())); // (B,C)
            return op(OnnxOps.GEMM, Map.of("transB", 1), last, w.get("wte.weight"));
        }

        ONNXRef<?> wteT() {
            return op(OnnxOps.TRANSPOSE, Map.of("perm", new int[]{1, 0}), w.get("wte.weight"));
        }

        List<ONNXRef<?>> pastK = new ArrayList<>(), pastV = new ArrayList<>();

        OnnxMl.GraphProto build(Variant variant) {
            ctx.setName("rollstream_policy");
            declareWeights();
            if (variant.samplingMode() != null) return SamplingLoopGraph.build(this, variant);
            ONNXRef<?> ids = input("input_ids"), posIds = input("position_ids"), attn = input("attention_mask");
            if (variant == Variant.GENERATE_FUSED && FusedLoopGraph.MHA) {
                for (int l = 0; l < spec.layers(); l++) {
                    pastK.add(input("past_key_" + l));
                    pastV.add(input("past_value_" + l));
                }
                ONNXRef<?> bias = additiveMask(ids, attn, pastK.get(0));
                return FusedLoopGraph.build(this, transformerFused(ids, posIds, bias, pastK, pastV), posIds, attn);
            }
            if (variant == Variant.GENERATE_FUSED) {
                fusedCache = true;
                List<ONNXRef<?>> past = new ArrayList<>();
                for (int l = 0; l < spec.layers(); l++) past.add(input("past_" + l));
                ONNXRef<?> mask32 = op(OnnxOps.CAST, Map.of("to", DataType.INT32_VALUE), attn);
                return FusedLoopGraph.build(this, transformerFused(ids, posIds, mask32, past), posIds, attn);
            }
            for (int l = 0; l < spec.layers(); l++) {
                pastK.add(input("past_key_" + l));
                pastV.add(input("past_value_" + l));
            }
            Step s = transformer(ids, posIds, attn, pastK, pastV);
            if (variant == Variant.GENERATE) {
                return LoopGraph.build(this, s, posIds, attn);
            }
            for (int l = 0; l < spec.layers(); l++) {
                output("present_key_" + l, s.presentK().get(l));
                output("present_value_" + l, s.presentV().get(l));
            }
            if (variant == Variant.STEP) {
                output("last_logits", lastLogits(s.hidden()));
            } else {
                output("logits", op(OnnxOps.MATMUL, ln(s.hidden(), "ln_f"), wteT()));
            }
            return finish(variant);
        }

        ONNXRef<?> ln(ONNXRef<?> x, String name) {
            return op(OnnxOps.LAYER_NORM, Map.of("axis", -1, "epsilon", ModelSpec.LN_EPS), x, w.get(name + ".weight"), w.get(name + ".bias"));
        }

        /** GPT-2 tanh GELU, written out as DjlPolicy.gelu does (ORT fuses the pattern). */
        ONNXRef<?> gelu(ONNXRef<?> x) {
            ONNXRef<?> cube = op(OnnxOps.MUL, op(OnnxOps.MUL, x, x), x);
            ONNXRef<?> inner = op(OnnxOps.MUL, op(OnnxOps.ADD, x, op(OnnxOps.MUL, cube, f(0.044715f))), f((float) Math.sqrt(2.0 / Math.PI)));
            return op(OnnxOps.MUL, op(OnnxOps.MUL, x, f(0.5f)), op(OnnxOps.ADD, op(OnnxOps.TANH, inner), f(1f)));
        }

        /** Types the inputs and outputs, and turns the weight placeholders into external initializers. */
        OnnxMl.GraphProto finish(Variant variant) {
            return finish(ctx.buildGraph());
        }

        OnnxMl.GraphProto finish(OnnxMl.GraphProto g) {
            OnnxMl.GraphProto.Builder gb = dropEmpty(g.toBuilder()).clearInput().clearOutput();
            int act = fp16 ? DataType.FLOAT16_VALUE : DataType.FLOAT_VALUE;
            String h = Integer.toString(spec.heads()), d = Integer.toString(spec.headDim());
            gb.addInput(value("input_ids", DataType.INT64_VALUE, "batch", "seq"));
            gb.addInput(value("position_ids", DataType.INT64_VALUE, "batch", "seq"));
            gb.addInput(value("attention_mask", DataType.INT64_VALUE, "batch", "total"));
            if (in.containsKey("max_new_tokens")) gb.addInput(value("max_new_tokens", DataType.INT64_VALUE));
            for (int l = 0; l < spec.layers(); l++) {
                if (fusedCache) {
                    gb.addInput(value("past_" + l, act, "2", "batch", h, "past", d));
                    continue;
                }
                gb.addInput(value("past_key_" + l, act, "batch", h, "past", d));
                gb.addInput(value("past_value_" + l, act, "batch", h, "past", d));
            }
            gb.addAllInput(typedInputs.values());
            gb.addAllOutput(typedOutputs.values());
            for (String o : outputs) {
                if (o.startsWith("present")) gb.addOutput(value(o, act, "batch", h, "total", d));
                else if (o.equals("logits")) gb.addOutput(value(o, act, "batch", "seq", Integer.toString(spec.vocabSize())));
                else if (o.equals("tokens")) gb.addOutput(value(o, DataType.INT64_VALUE, "new", "batch", "1"));
                else if (o.equals("token_logprobs")) gb.addOutput(value(o, DataType.FLOAT_VALUE, "new", "batch", "1"));
                else gb.addOutput(value(o, act, "batch", Integer.toString(spec.vocabSize())));
            }
            for (var e : spec.parameterShapes().entrySet()) {
                long n = Weights.Tensor.numel(e.getValue());
                OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(e.getKey()).setDataType(act)
                        .setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(kv("location", EXTERNAL_LOCATION))
                        .addExternalData(kv("offset", "0"))
                        .addExternalData(kv("length", Long.toString(n * (fp16 ? 2 : 4))));
                for (long dim : e.getValue()) t.addDims(dim);
                gb.addInitializer(t);
            }
            return gb.build();
        }

        static OnnxMl.StringStringEntryProto kv(String k, String v) {
            return OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
        }

        static OnnxMl.ValueInfoProto value(String name, int type, String... dims) {
            OnnxMl.TensorShapeProto.Builder s = OnnxMl.TensorShapeProto.newBuilder();
            for (String dim : dims) {
                if (dim.chars().allMatch(Character::isDigit)) s.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(Long.parseLong(dim)));
                else s.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(dim));
            }
            return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                    .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type).setShape(s))).build();
        }
    }
}
