package org.rollstream.policy;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Ordered map of parameter name to fp32 tensor (row-major). Insertion order is the file order. */
public final class Weights {

    /** A dense fp32 tensor, row-major. */
    public record Tensor(long[] shape, float[] data) {
        public Tensor {
            long n = numel(shape);
            if (n != data.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
            }
        }

        public static long numel(long[] shape) {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        public boolean contentEquals(Tensor o) {
            return Arrays.equals(shape, o.shape) && Arrays.equals(data, o.data);
        }
    }

    private final LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();

    public Weights put(String name, long[] shape, float[] data) {
        tensors.put(name, new Tensor(shape.clone(), data));
        return this;
    }

    public Weights put(String name, Tensor t) {
        tensors.put(name, t);
        return this;
    }

    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new WeightsException("no tensor named '" + name + "'");
        return t;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public Map<String, Tensor> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public int size() {
        return tensors.size();
    }

    /** True when both hold the same names in the same order with bit-identical values. */
    public boolean contentEquals(Weights o) {
        if (!tensors.keySet().stream().toList().equals(o.tensors.keySet().stream().toList())) return false;
        for (var e : tensors.entrySet()) {
            if (!e.getValue().contentEquals(o.tensors.get(e.getKey()))) return false;
        }
        return true;
    }

    /** Throws {@link WeightsException} unless names and shapes are exactly those of {@code spec}. */
    public void checkAgainst(ModelSpec spec) {
        Map<String, long[]> have = new LinkedHashMap<>();
        tensors.forEach((name, t) -> have.put(name, t.shape()));
        checkShapes(have, spec);
    }

    /** Throws {@link WeightsException} unless {@code have} (name to shape) holds exactly the names and shapes of {@code spec}. */
    static void checkShapes(Map<String, long[]> have, ModelSpec spec) {
        Map<String, long[]> want = spec.parameterShapes();
        for (var e : want.entrySet()) {
            long[] shape = have.get(e.getKey());
            if (shape == null) {
                throw new WeightsException("missing tensor '" + e.getKey() + "' required by spec " + spec.toJson());
            }
            if (!Arrays.equals(shape, e.getValue())) {
                throw new WeightsException("tensor '" + e.getKey() + "' has shape " + Arrays.toString(shape)
                        + " but spec " + spec.toJson() + " requires " + Arrays.toString(e.getValue()));
            }
        }
        for (String name : have.keySet()) {
            if (!want.containsKey(name)) {
                throw new WeightsException("unexpected tensor '" + name + "' not in spec " + spec.toJson());
            }
        }
    }
}
