package org.rollstream.learner.rm;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.rollstream.policy.Weights;

/**
 * The reward model, a DJL block: a character n-gram convolution pooled over the sequence, then a
 * small MLP with two scalar heads, {@link #HELPFULNESS} and {@link #HARMLESSNESS}.
 * <pre>
 *   x_t  = embed[id_t] · mask_t                               (B,T,E), padding rows zero
 *   w_t  = [x_t, x_t+1, …, x_t+K−1]  (zeros past the end)     (B,T,K·E)
 *   h_t  = tanh(w_t · convW + convB)                          (B,T,H)
 *   z    = [max_t h_t over real tokens, mean_t h_t over real tokens]  (B,2H)
 *   out  = tanh(z · fcW + fcB) · headW + headB                (B,2)
 * </pre>
 * A score does not depend on how much padding its batch adds. The rules it must learn are local
 * patterns (a marker word, a filler phrase, an empty {@code <think></think>}, the kind of prompt) and
 * their combination, which n-grams with max pooling detect and the MLP combines; a transformer would
 * learn the same at many times the cost on 2 CPU cores. {@code OnnxRewardModelExporter} in
 * policy-ort writes the same function as ONNX; parameter names and layouts are that contract.
 */
public final class RewardModel implements AutoCloseable {
    public static final int HELPFULNESS = 0;
    public static final int HARMLESSNESS = 1;
    public static final int HEADS = 2;

    static final String EMBED = "embed";
    static final String CONV_W = "conv.weight";
    static final String CONV_B = "conv.bias";
    static final String FC_W = "fc.weight";
    static final String FC_B = "fc.bias";
    static final String HEAD_W = "head.weight";
    static final String HEAD_B = "head.bias";
    /** Added to padded positions before the max, so they never win it. */
    private static final float MASKED = -1e4f;

    private final RewardModelShape shape;
    private final NDManager manager;
    private final Net net;

    /** A fresh model, initialised from {@code seed}. */
    public RewardModel(NDManager manager, RewardModelShape shape, long seed) {
        this(manager, initialWeights(shape, seed));
    }

    /** A model holding {@code weights} (their shapes give the model's). */
    public RewardModel(NDManager manager, Weights weights) {
        this.shape = RewardModelShape.of(weights);
        this.manager = manager;
        this.net = new Net();
        for (var e : net.params.entrySet()) {
            Weights.Tensor t = weights.get(e.getKey());
            NDArray a = manager.create(t.data(), new Shape(t.shape()));
            a.setName(e.getKey());
            e.getValue().setArray(a);
        }
    }

    /** Parameter names and shapes in canonical order. */
    public static Map<String, long[]> parameterShapes(RewardModelShape s) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put(EMBED, new long[]{s.vocab(), s.embed()});
        m.put(CONV_W, new long[]{(long) s.window() * s.embed(), s.hidden()});
        m.put(CONV_B, new long[]{s.hidden()});
        m.put(FC_W, new long[]{2L * s.hidden(), s.mlp()});
        m.put(FC_B, new long[]{s.mlp()});
        m.put(HEAD_W, new long[]{s.mlp(), HEADS});
        m.put(HEAD_B, new long[]{HEADS});
        return m;
    }

    /** Gaussian embeddings (std 0.1), matrices scaled by 1/sqrt(fan-in), zero biases. */
    public static Weights initialWeights(RewardModelShape s, long seed) {
        Random r = new Random(seed);
        Weights w = new Weights();
        parameterShapes(s).forEach((name, dims) -> {
            float[] d = new float[(int) Weights.Tensor.numel(dims)];
            if (!name.endsWith("bias")) {
                double std = name.equals(EMBED) ? 0.1 : 1.0 / Math.sqrt(dims[0]);
                for (int i = 0; i < d.length; i++) {
                    d[i] = (float) (r.nextGaussian() * std);
                }
            }
            w.put(name, dims, d);
        });
        return w;
    }

    public RewardModelShape shape() {
        return shape;
    }

    public Block block() {
        return net;
    }

    /** Scores (B,2) for token ids (B,T) and a 0/1 mask (B,T) of real tokens; every row needs at least one. */
    public NDArray scores(NDArray ids, NDArray mask, boolean training) {
        ParameterStore ps = new ParameterStore(ids.getManager(), false);
        return net.forward(ps, new NDList(ids, mask), training).singletonOrThrow();
    }

    /** Scores of token sequences, one row each: {@code [i][head]}. */
    public float[][] score(List<int[]> sequences) {
        try (NDManager m = manager.newSubManager()) {
            NDList in = RewardBatch.encode(m, sequences);
            float[] flat = scores(in.get(0), in.get(1), false).toFloatArray();
            float[][] out = new float[sequences.size()][HEADS];
            for (int i = 0; i < out.length; i++) {
                System.arraycopy(flat, i * HEADS, out[i], 0, HEADS);
            }
            return out;
        }
    }

    /** Copies every parameter out, in canonical order. */
    public Weights exportWeights() {
        Weights w = new Weights();
        for (var e : net.params.entrySet()) {
            NDArray a = e.getValue().getArray();
            w.put(e.getKey(), a.getShape().getShape(), a.toType(DataType.FLOAT32, false).toFloatArray());
        }
        return w;
    }

    @Override
    public void close() {
        for (Parameter p : net.params.values()) {
            p.close();
        }
    }

    private final class Net extends AbstractBlock {
        final Map<String, Parameter> params = new LinkedHashMap<>();

        Net() {
            for (String name : parameterShapes(shape).keySet()) {
                params.put(name, addParameter(Parameter.builder().setName(name)
                        .setType(name.endsWith("bias") ? Parameter.Type.BIAS : Parameter.Type.WEIGHT).build()));
            }
        }

        private NDArray p(ParameterStore ps, String name, NDArray like, boolean training) {
            return ps.getValue(params.get(name), like.getDevice(), training);
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> pl) {
            NDArray ids = inputs.get(0).toType(DataType.INT64, false);
            NDArray mask = inputs.get(1).toType(DataType.FLOAT32, false);
            long b = ids.getShape().get(0), t = ids.getShape().get(1);
            int e = shape.embed(), k = shape.window();
            NDArray x = p(ps, EMBED, ids, training).get(new NDIndex("{}", ids.reshape(-1))).reshape(b, t, e)
                    .mul(mask.expandDims(-1));
            NDArray padded = k > 1 ? x.concat(ids.getManager().zeros(new Shape(b, k - 1, e)), 1) : x;
            NDList shifts = new NDList();
            for (int i = 0; i < k; i++) {
                shifts.add(padded.get(new NDIndex(":, {}:{}, :", i, i + t)));
            }
            NDArray windows = k > 1 ? NDArrays.concat(shifts, 2) : x;
            NDArray h = windows.matMul(p(ps, CONV_W, ids, training)).add(p(ps, CONV_B, ids, training)).tanh();
            NDArray m3 = mask.expandDims(-1);
            NDArray max = h.add(m3.sub(1f).mul(-MASKED)).max(new int[]{1});
            NDArray mean = h.mul(m3).sum(new int[]{1}).div(mask.sum(new int[]{1}, true).maximum(1f));
            NDArray z = max.concat(mean, 1);
            NDArray f = z.matMul(p(ps, FC_W, ids, training)).add(p(ps, FC_B, ids, training)).tanh();
            return new NDList(f.matMul(p(ps, HEAD_W, ids, training)).add(p(ps, HEAD_B, ids, training)));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[]{new Shape(inputShapes[0].get(0), HEADS)};
        }
    }
}
