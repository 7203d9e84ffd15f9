package org.rollstream.learner.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rollstream.policy.djl.ComputeWeights;
import org.rollstream.policy.djl.DjlPolicy;

/**
 * The gradient of one optimizer update of a {@link DjlPolicy}, whatever its compute precision.
 * Open it before the update's first forward, call {@link #collect()} after each micro-batch's
 * backward pass, read {@link #gradients()} once after the last, and close it after the update
 * (applied or not).
 *
 * <ul>
 *   <li>fp32: the masters are the graph's leaves; backward passes add into their own gradients,
 *       which {@link #gradients()} hands out and {@link #close()} zeroes. Nothing else happens, so
 *       fp32 training is exactly what it was before this class.</li>
 *   <li>fp16: opening makes trainable fp16 copies of the masters ({@link ComputeWeights}) that the
 *       forwards run on. {@link #collect()} adds each copy's gradient, cast to fp32, into an fp32
 *       buffer per master and zeroes the copy's. Accumulating in fp32 per micro-batch rather than
 *       in the copies' fp16 gradients keeps the sum of k micro-batches from overflowing fp16
 *       (each scaled micro-batch gradient must fit in 65,504, not their sum) and from rounding k
 *       times to 11 bits; it costs one cast and add per parameter per micro-batch, little beside
 *       the matmuls. {@link #gradients()} frees the copies (they go stale once the masters move)
 *       and hands out the buffers; {@link #close()} frees those.</li>
 * </ul>
 * The gradients are still multiplied by the loss scale: the trainer unscales them.
 */
public final class PolicyGradients implements AutoCloseable {
    private final DjlPolicy policy;
    private ComputeWeights copies;
    private final Map<String, NDArray> sums = new LinkedHashMap<>();
    private Gradients gradients;

    private PolicyGradients(DjlPolicy policy) {
        this.policy = policy;
        this.copies = policy.computePrecision().reduced() ? policy.openComputeWeights(true) : null;
    }

    /** Starts an update's gradient of {@code policy}; see the class comment. */
    public static PolicyGradients open(DjlPolicy policy) {
        return new PolicyGradients(policy);
    }

    /** Takes in what the last backward pass produced (fp16: moves it into the fp32 sums). */
    public void collect() {
        if (copies == null) {
            return; // fp32: the engine already added it to the masters' gradients
        }
        for (String name : copies.names()) {
            try (NDArray g16 = copies.gradient(name)) {
                NDArray g = g16.toType(DataType.FLOAT32, false);
                NDArray sum = sums.get(name);
                if (sum == null) {
                    ai.djl.ndarray.NDScope.unregister(g);
                    sums.put(name, g);
                } else {
                    sum.addi(g);
                    g.close();
                }
            }
        }
        copies.zeroGradients();
    }

    /** The update's fp32 gradients, still loss-scaled; call once, after the last {@link #collect()}. */
    public Gradients gradients() {
        if (gradients != null) {
            throw new IllegalStateException("gradients() was already called");
        }
        if (copies == null) {
            gradients = Gradients.ofParameters(policy.block().getParameters());
            return gradients;
        }
        copies.close();
        copies = null;
        List<Gradients.Entry> entries = new ArrayList<>(sums.size());
        for (Pair<String, Parameter> p : policy.block().getParameters()) {
            NDArray sum = sums.get(p.getKey());
            if (sum == null) {
                throw new IllegalStateException("no gradient was collected for " + p.getKey());
            }
            entries.add(new Gradients.Entry(p.getKey(), p.getValue().getArray(), sum));
        }
        gradients = Gradients.of(entries);
        return gradients;
    }

    /** Ends the update: fp32 zeroes the masters' gradients, fp16 frees the copies and the sums. */
    @Override
    public void close() {
        if (gradients != null) {
            gradients.close();
        }
        if (copies != null) {
            copies.close();
            copies = null;
        }
        if (policy.computePrecision().reduced()) {
            sums.values().forEach(NDArray::close);
            sums.clear();
        } else {
            GradientClipping.zero(policy.block().getParameters());
        }
    }
}
