package org.rollstream.policy.djl;

import org.rollstream.policy.HalfWeights;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The policy transformer as a DJL block (training side). GPT-2 architecture: learned positions,
 * pre-LayerNorm blocks (eps 1e-5), causal multi-head attention, tanh-GELU MLP, final LayerNorm,
 * logits = h @ wte^T (tied embeddings). Parameters carry GPT-2 names and the layout of
 * {@link ModelSpec#parameterShapes()}.
 *
 * <p>Arrays produced by the helpers are attached to the manager of their input; callers running
 * loops should use sub-managers. The learner builds its {@code Trainer} over {@link #block()}; the
 * parameter arrays already exist, so {@code trainer.initialize(...)} keeps them.
 *
 * <p>Memory: DJL keeps every array a forward creates alive until its manager or scope closes,
 * whereas PyTorch frees an intermediate as soon as nothing refers to it. So the forward closes its
 * intermediates itself, layer by layer: closing a Java handle only drops that reference, and
 * tensors autograd saved for the backward pass stay alive through the graph. What a layer keeps is
 * therefore what PyTorch's autograd keeps, not every temporary. {@link #legacyForward(boolean)}
 * restores the forward as it was before (nothing released, log-softmax kept, fp32 only) for the
 * learner benchmark's side-by-side figures.
 *
 * <p>Precision: see {@link ComputePrecision}. Parameters (the master weights) are always fp32. With
 * fp16 the forward runs entirely in fp16 on {@link ComputeWeights}, fp16 copies of the masters: a
 * forward outside training makes its own copies and frees them when it returns; training opens
 * trainable copies with {@link #openComputeWeights(boolean)}, whose gradients the trainer moves onto
 * the masters.
 */
public final class DjlPolicy implements AutoCloseable {
    public static final float LN_EPS = ModelSpec.LN_EPS;
    public static final float MASK_VALUE = ModelSpec.MASK_VALUE;

    /** The lowest finite fp16 value: the causal mask in fp16 (−10⁹ would round to −∞). */
    static final float FP16_MASK_VALUE = -65504f;

    private final ModelSpec spec;
    private final NDManager manager;
    private final PolicyBlock block;
    private ComputePrecision precision = ComputePrecision.FP32;
    private boolean legacy;
    private ComputeWeights computeWeights;

    /** Builds the model with GPT-2 initialisation drawn from {@code seed} (engine-independent). */
    public DjlPolicy(ModelSpec spec, NDManager manager, long seed) {
        this.spec = spec;
        this.manager = manager;
        this.block = new PolicyBlock();
        loadWeights(initialWeights(spec, seed));
    }

    public DjlPolicy(ModelSpec spec, NDManager manager, Weights weights) {
        this.spec = spec;
        this.manager = manager;
        this.block = new PolicyBlock();
        loadWeights(weights);
    }

    public ModelSpec spec() {
        return spec;
    }

    public Block block() {
        return block;
    }

    public NDManager manager() {
        return manager;
    }

    /**
     * The type forwards compute in from now on (default fp32); returns this.
     *
     * @throws IllegalArgumentException for a precision DJL cannot run (see {@link ComputePrecision#unsupportedReason()})
     */
    public DjlPolicy computePrecision(ComputePrecision p) {
        if (p == null) {
            throw new IllegalArgumentException("precision must not be null");
        }
        if (p.unsupportedReason() != null) {
            throw new IllegalArgumentException(p.unsupportedReason());
        }
        if (p.reduced() && legacy) {
            throw new IllegalArgumentException("the legacy forward runs in fp32 only, not " + p);
        }
        if (computeWeights != null) {
            throw new IllegalStateException("compute weights are open; close them before changing the precision");
        }
        this.precision = p;
        return this;
    }

    public ComputePrecision computePrecision() {
        return precision;
    }

    /**
     * Opens copies of the parameters in the compute type, which every forward uses until they are
     * closed. With {@code trainable} they are the leaves of a training forward's graph: a backward
     * pass gives them, not the fp32 masters, gradients (see {@link ComputeWeights}). Updating the
     * masters does not update open copies: close them first, reopen after.
     *
     * @throws IllegalStateException with fp32 compute (the masters themselves are the leaves), or
     *                               while another set is open
     */
    public ComputeWeights openComputeWeights(boolean trainable) {
        if (!precision.reduced()) {
            throw new IllegalStateException("fp32 compute runs on the master weights; there is nothing to copy");
        }
        if (computeWeights != null) {
            throw new IllegalStateException("compute weights are already open");
        }
        computeWeights = new ComputeWeights(this, block.getParameters(), precision.dataType(), trainable);
        return computeWeights;
    }

    /** Called by {@link ComputeWeights#close()}. */
    void closed(ComputeWeights w) {
        if (computeWeights == w) {
            computeWeights = null;
        }
    }

    /**
     * With {@code true}, forwards run as before the memory work: every intermediate stays alive
     * until the caller's scope or manager closes, the full log-softmax is kept, layer norm and GELU
     * are composed of elementary ops, and only fp32 is allowed. Kept for the learner benchmark's
     * before/after figures; results equal the default path's up to float rounding.
     */
    public DjlPolicy legacyForward(boolean on) {
        this.legacy = on;
        return this;
    }

    /** GPT-2 init: N(0, 0.02) matrices and embeddings, output projections scaled by 1/sqrt(2L), zero biases, unit LN gains. */
    public static Weights initialWeights(ModelSpec spec, long seed) {
        Random r = new Random(seed);
        Weights w = new Weights();
        double projStd = 0.02 / Math.sqrt(2.0 * spec.layers());
        spec.parameterShapes().forEach((name, shape) -> {
            float[] d = new float[(int) Weights.Tensor.numel(shape)];
            if (name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight") || name.equals("ln_f.weight")) {
                java.util.Arrays.fill(d, 1f);
            } else if (name.endsWith(".weight")) {
                double std = name.endsWith("c_proj.weight") ? projStd : 0.02;
                for (int i = 0; i < d.length; i++) d[i] = (float) (r.nextGaussian() * std);
            }
            w.put(name, shape, d);
        });
        return w;
    }

    /** Logits (B,T,V) for int tokens (B,T), positions 0..T-1. */
    public NDArray logits(NDArray tokens) {
        return logits(tokens, false);
    }

    public NDArray logits(NDArray tokens, boolean training) {
        ParameterStore ps = new ParameterStore(tokens.getManager(), false);
        NDArray logits = block.forward(ps, new NDList(tokens), training).singletonOrThrow();
        if (logits.getDataType() == DataType.FLOAT32) {
            return logits;
        }
        NDArray out = logits.toType(DataType.FLOAT32, false);
        logits.close();
        return out;
    }

    /**
     * log p(tokens[:, t+1] | tokens[:, :t+1]) for t = 0..T-2, shape (B, T-1): the per-token
     * log-probabilities GRPO needs for a prompt+completion sequence.
     */
    public NDArray tokenLogProbs(NDArray tokens) {
        return tokenLogProbs(tokens, false);
    }

    /**
     * As {@link #tokenLogProbs(NDArray)}, recording the graph when called inside a gradient
     * collector with {@code training}. Only the (B, T-1) result stays referenced: the logits and
     * the fp32 log-softmax over the vocabulary are released here, the latter surviving only as
     * long as autograd needs it for the backward pass (log-softmax's backward uses its output; it
     * is the one (B, T, V) tensor a step keeps, as {@code torch.logsumexp} would keep its input).
     */
    public NDArray tokenLogProbs(NDArray tokens, boolean training) {
        long t = tokens.getShape().get(1);
        if (legacy) {
            NDArray logits = logits(tokens.get(new NDIndex(":, 0:{}", t - 1)), training);
            return gatherLogProbs(logits, tokens.get(new NDIndex(":, 1:")));
        }
        ParameterStore ps = new ParameterStore(tokens.getManager(), false);
        NDArray out;
        try (NDScope scope = new NDScope()) {
            NDArray input = tokens.get(new NDIndex(":, 0:{}", t - 1));
            NDArray targets = tokens.get(new NDIndex(":, 1:")).toType(DataType.INT64, false).expandDims(-1);
            NDArray logits = block.forward(ps, new NDList(input), training).singletonOrThrow();
            // the fp32 log-softmax of reduced-precision logits: the engine casts inside the op, keeping the gradient
            NDArray lp = logits.getDataType() == DataType.FLOAT32 ? logits.logSoftmax(-1)
                    : JniUtils.logSoftmax((PtNDArray) logits, -1, DataType.FLOAT32);
            out = lp.gather(targets, -1).squeeze(-1);
            NDScope.unregister(out);
        }
        NDScope.register(out);
        return out;
    }

    /** log_softmax(logits)[b, t, targets[b, t]] for logits (B,T,V) and targets (B,T). */
    public static NDArray gatherLogProbs(NDArray logits, NDArray targets) {
        NDArray lp = logits.logSoftmax(-1);
        return lp.gather(targets.toType(DataType.INT64, false).expandDims(-1), -1).squeeze(-1);
    }

    /**
     * Mean next-token cross-entropy over positions where {@code lossMask} (B,T) is non-zero; the
     * mask marks target tokens (position 0 is never a target). Call inside the learner's
     * gradient collector with training=true semantics.
     */
    public NDArray sftLoss(NDArray tokens, NDArray lossMask) {
        NDArray lp = tokenLogProbs(tokens, true);
        NDArray m = lossMask.get(new NDIndex(":, 1:")).toType(DataType.FLOAT32, false);
        return lp.mul(m).sum().neg().div(m.sum().maximum(1f));
    }

    /** Copies every parameter out, in canonical order. */
    public Weights exportWeights() {
        Weights w = new Weights();
        for (var e : block.params.entrySet()) {
            NDArray a = e.getValue().getArray();
            w.put(e.getKey(), a.getShape().getShape(), a.toType(DataType.FLOAT32, false).toFloatArray());
        }
        return w;
    }

    /**
     * A copy of every parameter made where the parameters live (on a GPU a device-to-device copy,
     * nothing moved to the host), to be exported later from any thread while training goes on. The
     * learner's step then pays for the copy only, not for the transfer and conversion of
     * {@link #exportWeights()} (0.36 s a step for the 85 M-parameter policy on an H200).
     */
    public ParameterSnapshot snapshot() {
        NDManager held = manager.newSubManager();
        Map<String, NDArray> copies = new LinkedHashMap<>();
        try {
            for (var e : block.params.entrySet()) {
                // detached first: a clone of a parameter that records gradients would join the graph
                try (NDArray view = e.getValue().getArray().stopGradient()) {
                    NDArray copy = view.duplicate();
                    copy.attach(held);
                    copies.put(e.getKey(), copy);
                }
            }
        } catch (RuntimeException ex) {
            held.close();
            throw ex;
        }
        return new ParameterSnapshot(copies, held);
    }

    /** The parameters as they were at {@link #snapshot()}; {@link #close()} frees the copies. Not thread-safe. */
    public static final class ParameterSnapshot implements AutoCloseable {
        private final Map<String, NDArray> copies;
        private final NDManager held;
        private boolean closed;

        private ParameterSnapshot(Map<String, NDArray> copies, NDManager held) {
            this.copies = copies;
            this.held = held;
        }

        /** The copies moved to the host as fp32, in canonical order (what {@link #exportWeights()} returned then). */
        public Weights toWeights() {
            if (closed) throw new IllegalStateException("snapshot is closed");
            Weights w = new Weights();
            for (var e : copies.entrySet()) {
                NDArray a = e.getValue();
                w.put(e.getKey(), a.getShape().getShape(), a.toType(DataType.FLOAT32, false).toFloatArray());
            }
            return w;
        }

        /**
         * The copies as float16, converted where they live (on a GPU: half the bytes cross to the host and
         * no conversion runs in Java), in canonical order; what a float16 weights file stores. Values
         * beyond float16's range become infinities, as {@link org.rollstream.policy.Half#fromFloat} makes them.
         */
        public HalfWeights toHalfWeights() {
            if (closed) throw new IllegalStateException("snapshot is closed");
            HalfWeights w = new HalfWeights();
            for (var e : copies.entrySet()) {
                try (NDArray half = e.getValue().toType(DataType.FLOAT16, true)) {
                    ByteBuffer host = half.toByteBuffer();
                    ByteBuffer le = ByteBuffer.allocate(host.remaining()).order(ByteOrder.LITTLE_ENDIAN);
                    if (host.order() == ByteOrder.LITTLE_ENDIAN) {
                        le.put(host).flip();
                    } else {
                        le.asShortBuffer().put(host.asShortBuffer());
                    }
                    w.put(e.getKey(), e.getValue().getShape().getShape(), le);
                }
            }
            return w;
        }

        /**
         * The snapshot as a weights file ({@link WeightSnapshot}'s layout, no data checksum in its header: the
         * publisher announces the whole file's sha-256): float16 made here with {@link #toHalfWeights()}, or float32.
         */
        public byte[] toFileBytes(ModelSpec spec, long version, long step, boolean fp16) {
            return fp16 ? WeightSnapshot.toBytes(toHalfWeights(), spec, version, step)
                    : WeightSnapshot.toBytes(toWeights(), spec, version, step, false);
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                held.close();
            }
        }
    }

    /** Overwrites every parameter in place (so an optimizer holding the arrays keeps working). */
    public void loadWeights(Weights w) {
        w.checkAgainst(spec);
        for (var e : block.params.entrySet()) {
            Weights.Tensor t = w.get(e.getKey());
            Parameter p = e.getValue();
            if (!p.isInitialized()) {
                NDArray a = manager.create(t.data(), new Shape(t.shape()));
                a.setName(e.getKey());
                p.setArray(a);
            } else {
                p.getArray().set(t.data());
            }
        }
    }

    /** A KV cache for incremental decoding: per layer (B,H,P,D) keys and values. */
    public record KvCache(List<NDArray> keys, List<NDArray> values) {
        public long length() {
            return keys.isEmpty() || keys.get(0) == null ? 0 : keys.get(0).getShape().get(2);
        }
    }

    /**
     * Incremental forward: tokens (B,S) at positions past.length()..+S-1. Returns logits (B,S,V);
     * fills {@code present} (pass an empty cache) with the concatenated keys and values.
     */
    public NDArray forwardWithCache(NDArray tokens, KvCache past, KvCache present) {
        ParameterStore ps = new ParameterStore(tokens.getManager(), false);
        NDArray logits = legacy ? block.runLegacy(ps, tokens, past, present, false)
                : block.run(ps, tokens, past, present, false);
        if (logits.getDataType() == DataType.FLOAT32) {
            return logits;
        }
        NDArray out = logits.toType(DataType.FLOAT32, false);
        logits.close();
        return out;
    }

    @Override
    public void close() {
        for (Parameter p : block.params.values()) p.close();
    }

    private final class PolicyBlock extends AbstractBlock {
        final Map<String, Parameter> params = new LinkedHashMap<>();

        PolicyBlock() {
            for (var e : spec.parameterShapes().entrySet()) {
                Parameter p = Parameter.builder().setName(e.getKey())
                        .setType(e.getKey().endsWith("bias") ? Parameter.Type.BIAS : Parameter.Type.WEIGHT)
                        .build();
                params.put(e.getKey(), addParameter(p));
            }
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> pl) {
            NDArray tokens = inputs.singletonOrThrow();
            return new NDList(legacy ? runLegacy(ps, tokens, null, null, training) : run(ps, tokens, null, null, training));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[]{new Shape(inputShapes[0].get(0), inputShapes[0].get(1), spec.vocabSize())};
        }

        private NDArray p(ParameterStore ps, String name, NDArray like, boolean training) {
            return computeWeights != null ? computeWeights.get(name) : ps.getValue(params.get(name), like.getDevice(), training);
        }

        /**
         * {@link #runIn}, on compute weights when the precision is reduced: the open ones, or copies
         * made for this forward only (inference) and freed when it returns.
         */
        NDArray run(ParameterStore ps, NDArray tokens, KvCache past, KvCache present, boolean training) {
            if (!precision.reduced()) {
                return runIn(ps, tokens, past, present, training);
            }
            if (computeWeights != null) {
                if (training && !computeWeights.trainable()) {
                    throw new IllegalStateException("a training forward in " + precision + " needs trainable compute weights");
                }
                return runIn(ps, tokens, past, present, training);
            }
            if (training) {
                throw new IllegalStateException("a training forward in " + precision
                        + " runs on trainable compute weights: open them with openComputeWeights(true)");
            }
            try (ComputeWeights temporary = openComputeWeights(false)) {
                return runIn(ps, tokens, past, present, false);
            }
        }

        /**
         * The forward, releasing each layer's temporaries when the layer ends (see the class
         * comment). Logits come out in the compute type; the KV cache entries are registered like
         * the result, in the caller's scope. Every array is fp32, or with reduced precision every
         * floating array is in the compute type (the parameters then being the compute weights).
         */
        NDArray runIn(ParameterStore ps, NDArray tokens, KvCache past, KvCache present, boolean training) {
            NDManager m = tokens.getManager();
            long b = tokens.getShape().get(0), t = tokens.getShape().get(1);
            long pastLen = past == null ? 0 : past.length();
            if (pastLen + t > spec.contextLength()) {
                throw new IllegalArgumentException("sequence of " + (pastLen + t) + " tokens exceeds context " + spec.contextLength());
            }
            int c = spec.width(), h = spec.heads(), d = spec.headDim();
            DataType ct = precision.dataType();
            NDArray x;
            NDArray mask;
            try (NDScope scope = new NDScope()) {
                NDArray idx = tokens.toType(DataType.INT64, false);
                NDArray pos = m.arange(pastLen, pastLen + t, 1, DataType.INT64);
                x = p(ps, "wte.weight", tokens, training).get(new NDIndex("{}", idx.reshape(-1))).reshape(b, t, c)
                        .add(p(ps, "wpe.weight", tokens, training).get(new NDIndex("{}", pos)));
                // causal mask (T, P+T): query i sits at absolute position P+i
                NDArray qpos = m.arange(pastLen, pastLen + t, 1, DataType.INT64).reshape(t, 1);
                NDArray kpos = m.arange(0, pastLen + t, 1, DataType.INT64).reshape(1, pastLen + t);
                // every row keeps its diagonal, so no row is all masked, whatever the mask value rounds to
                mask = ct == DataType.FLOAT32 ? kpos.gt(qpos).toType(DataType.FLOAT32, false).mul(MASK_VALUE)
                        : kpos.gt(qpos).toType(ct, false).mul(FP16_MASK_VALUE);
                NDScope.unregister(x, mask);
            }
            float scale = (float) (1.0 / Math.sqrt(d));
            for (int l = 0; l < spec.layers(); l++) {
                String pre = "h." + l + ".";
                NDArray next;
                NDArray k;
                NDArray v;
                try (NDScope scope = new NDScope()) {
                    NDArray a = fusedLayerNorm(x, p(ps, pre + "ln_1.weight", x, training), p(ps, pre + "ln_1.bias", x, training));
                    NDArray qkv = linear(a, p(ps, pre + "attn.c_attn.weight", x, training), p(ps, pre + "attn.c_attn.bias", x, training));
                    NDList parts = qkv.split(3, 2);
                    // scaling q (B,H,T,D) is cheaper than scaling the (B,H,T,T) scores
                    NDArray q = heads(parts.get(0), b, t, h, d).mul(scale);
                    k = heads(parts.get(1), b, t, h, d);
                    v = heads(parts.get(2), b, t, h, d);
                    if (pastLen > 0) {
                        k = past.keys().get(l).concat(k, 2);
                        v = past.values().get(l).concat(v, 2);
                    }
                    NDArray att = q.matMul(k.transpose(0, 1, 3, 2)).add(mask).softmax(-1);
                    NDArray y = att.matMul(v).transpose(0, 2, 1, 3).reshape(b, t, c);
                    y = linear(y, p(ps, pre + "attn.c_proj.weight", x, training), p(ps, pre + "attn.c_proj.bias", x, training));
                    NDArray mid = x.add(y);
                    NDArray f = fusedLayerNorm(mid, p(ps, pre + "ln_2.weight", x, training), p(ps, pre + "ln_2.bias", x, training));
                    f = fastGelu(linear(f, p(ps, pre + "mlp.c_fc.weight", x, training), p(ps, pre + "mlp.c_fc.bias", x, training)));
                    f = linear(f, p(ps, pre + "mlp.c_proj.weight", x, training), p(ps, pre + "mlp.c_proj.bias", x, training));
                    next = mid.add(f);
                    NDScope.unregister(next);
                    if (present != null) {
                        NDScope.unregister(k, v);
                    }
                }
                if (present != null) {
                    NDScope.register(k);
                    NDScope.register(v);
                    present.keys().add(k);
                    present.values().add(v);
                }
                x.close();
                x = next;
            }
            NDArray logits;
            try (NDScope scope = new NDScope()) {
                NDArray hf = fusedLayerNorm(x, p(ps, "ln_f.weight", x, training), p(ps, "ln_f.bias", x, training));
                NDArray wte = p(ps, "wte.weight", x, training);
                logits = hf.matMul(wte.transpose());
                NDScope.unregister(logits);
            }
            x.close();
            mask.close();
            NDScope.register(logits);
            return logits;
        }

        /** The forward as it was before the memory work; see {@link #legacyForward(boolean)}. */
        NDArray runLegacy(ParameterStore ps, NDArray tokens, KvCache past, KvCache present, boolean training) {
            if (precision.reduced()) {
                throw new IllegalStateException("the legacy forward runs in fp32 only, not " + precision);
            }
            NDManager m = tokens.getManager();
            long b = tokens.getShape().get(0), t = tokens.getShape().get(1);
            long pastLen = past == null ? 0 : past.length();
            if (pastLen + t > spec.contextLength()) {
                throw new IllegalArgumentException("sequence of " + (pastLen + t) + " tokens exceeds context " + spec.contextLength());
            }
            int c = spec.width(), h = spec.heads(), d = spec.headDim();
            NDArray idx = tokens.toType(DataType.INT64, false);
            NDArray wte = p(ps, "wte.weight", tokens, training);
            NDArray x = wte.get(new NDIndex("{}", idx.reshape(-1))).reshape(b, t, c);
            NDArray pos = m.arange(pastLen, pastLen + t, 1, DataType.INT64);
            x = x.add(p(ps, "wpe.weight", tokens, training).get(new NDIndex("{}", pos)));
            // causal mask (T, P+T): query i sits at absolute position P+i
            NDArray qpos = m.arange(pastLen, pastLen + t, 1, DataType.INT64).reshape(t, 1);
            NDArray kpos = m.arange(0, pastLen + t, 1, DataType.INT64).reshape(1, pastLen + t);
            NDArray mask = kpos.gt(qpos).toType(DataType.FLOAT32, false).mul(MASK_VALUE);
            float scale = (float) (1.0 / Math.sqrt(d));
            for (int l = 0; l < spec.layers(); l++) {
                String pre = "h." + l + ".";
                NDArray a = layerNorm(x, p(ps, pre + "ln_1.weight", x, training), p(ps, pre + "ln_1.bias", x, training));
                NDArray qkv = a.matMul(p(ps, pre + "attn.c_attn.weight", x, training)).add(p(ps, pre + "attn.c_attn.bias", x, training));
                NDList parts = qkv.split(3, 2);
                NDArray q = heads(parts.get(0), b, t, h, d);
                NDArray k = heads(parts.get(1), b, t, h, d);
                NDArray v = heads(parts.get(2), b, t, h, d);
                if (pastLen > 0) {
                    k = past.keys().get(l).concat(k, 2);
                    v = past.values().get(l).concat(v, 2);
                }
                if (present != null) {
                    present.keys().add(k);
                    present.values().add(v);
                }
                NDArray att = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).add(mask).softmax(-1);
                NDArray y = att.matMul(v).transpose(0, 2, 1, 3).reshape(b, t, c);
                y = y.matMul(p(ps, pre + "attn.c_proj.weight", x, training)).add(p(ps, pre + "attn.c_proj.bias", x, training));
                x = x.add(y);
                NDArray f = layerNorm(x, p(ps, pre + "ln_2.weight", x, training), p(ps, pre + "ln_2.bias", x, training));
                f = gelu(f.matMul(p(ps, pre + "mlp.c_fc.weight", x, training)).add(p(ps, pre + "mlp.c_fc.bias", x, training)));
                f = f.matMul(p(ps, pre + "mlp.c_proj.weight", x, training)).add(p(ps, pre + "mlp.c_proj.bias", x, training));
                x = x.add(f);
            }
            x = layerNorm(x, p(ps, "ln_f.weight", x, training), p(ps, "ln_f.bias", x, training));
            return x.matMul(wte.transpose());
        }
    }

    /** x @ w + b, all three in one type. */
    private static NDArray linear(NDArray x, NDArray w, NDArray bias) {
        return x.matMul(w).add(bias);
    }

    /**
     * The engine's fused layer norm in the input's type (keeps only mean and 1/σ for the backward
     * pass; in fp16 the engine accumulates the statistics in fp32).
     */
    static NDArray fusedLayerNorm(NDArray x, NDArray g, NDArray beta) {
        return LayerNorm.layerNorm(x, new Shape(x.getShape().tail()), g, beta, LN_EPS).singletonOrThrow();
    }

    /**
     * GPT-2's tanh GELU written as {@code x·σ(2u)}, u = √(2/π)(x + 0.044715x³), which equals
     * {@code 0.5x(1 + tanh u)} exactly and leaves autograd fewer saved tensors (x and σ).
     *
     * <p>In fp16, x³ overflows for |x| above about 40 and x² (in the power's backward) above 256,
     * where ∞·0 would make the gradient NaN; so the cubic sees x clamped to ±{@value #GELU_FP16_CLAMP}.
     * That changes nothing representable: from |x| = 6 on, |2u| > 25 and σ(2u) rounds to exactly 1
     * or 0 in fp16 (σ's derivative σ(1−σ) to 0), so the value and the gradient are those of the
     * unclamped formula.
     */
    static NDArray fastGelu(NDArray x) {
        NDArray cubicInput = x.getDataType() == DataType.FLOAT16 ? x.clip(-GELU_FP16_CLAMP, GELU_FP16_CLAMP) : x;
        NDArray u2 = cubicInput.pow(3).mul(0.044715f).add(x).mul((float) (2 * Math.sqrt(2.0 / Math.PI)));
        return x.mul(Activation.sigmoid(u2));
    }

    /** Where the fp16 GELU's cubic term stops growing; see {@link #fastGelu}. */
    static final float GELU_FP16_CLAMP = 12f;

    private static NDArray heads(NDArray x, long b, long t, int h, int d) {
        return x.reshape(b, t, h, d).transpose(0, 2, 1, 3);
    }

    static NDArray layerNorm(NDArray x, NDArray g, NDArray beta) {
        NDArray mean = x.mean(new int[]{-1}, true);
        NDArray xc = x.sub(mean);
        NDArray var = xc.square().mean(new int[]{-1}, true);
        return xc.div(var.add(LN_EPS).sqrt()).mul(g).add(beta);
    }

    /** GPT-2's tanh approximation of GELU. */
    static NDArray gelu(NDArray x) {
        NDArray inner = x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2.0 / Math.PI));
        return x.mul(0.5f).mul(inner.tanh().add(1f));
    }
}
