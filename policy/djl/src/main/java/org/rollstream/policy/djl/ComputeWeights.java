package org.rollstream.policy.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reduced-precision copies of a {@link DjlPolicy}'s fp32 master parameters, which the policy's
 * forwards run on while these are open (see {@link DjlPolicy#openComputeWeights(boolean)}).
 *
 * <p>The copies are made with a plain cast, outside any graph, so they are leaves: with
 * {@code trainable} a backward pass accumulates into each copy's own gradient (in the copy's type),
 * and the masters receive nothing. Whoever trains reads those gradients with {@link #gradient(String)},
 * moves them into fp32 and updates the masters; the copies then are stale and must be closed and
 * reopened before the next forward.
 *
 * <p>Not thread-safe; close exactly once (the policy allows one open set at a time).
 */
public final class ComputeWeights implements AutoCloseable {
    private final DjlPolicy owner;
    private final boolean trainable;
    private final Map<String, NDArray> copies = new LinkedHashMap<>();
    private boolean closed;

    ComputeWeights(DjlPolicy owner, Iterable<Pair<String, Parameter>> masters, DataType type, boolean trainable) {
        this.owner = owner;
        this.trainable = trainable;
        for (Pair<String, Parameter> p : masters) {
            NDArray master = p.getValue().getArray();
            // toType copies without recording a graph: the copy is a fresh leaf
            NDArray copy = master.toType(type, true);
            // the copies live until close(), whatever scope the caller's forward runs in; they stay in the
            // masters' manager, as the arrays a forward derives from them do (a manager of their own would
            // take those with it when closed)
            NDScope.unregister(copy);
            if (trainable) {
                copy.setRequiresGradient(true);
            }
            copies.put(p.getKey(), copy);
        }
    }

    /** The copy of parameter {@code name}. */
    public NDArray get(String name) {
        NDArray a = copies.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return a;
    }

    /** Parameter names in canonical order. */
    public Iterable<String> names() {
        return Collections.unmodifiableSet(copies.keySet());
    }

    /** True when the copies record gradients. */
    public boolean trainable() {
        return trainable;
    }

    /**
     * The gradient accumulated on {@code name}'s copy since it was made or last zeroed, in the
     * copy's type; a new handle the caller closes (closing it frees nothing of the gradient).
     *
     * @throws IllegalStateException when the copies are not trainable
     */
    public NDArray gradient(String name) {
        if (!trainable) {
            throw new IllegalStateException("these compute weights record no gradients");
        }
        return get(name).getGradient();
    }

    /** Resets every copy's gradient to zero (the engine's reset: a NaN does not survive it). */
    public void zeroGradients() {
        if (!trainable) {
            return;
        }
        for (NDArray a : copies.values()) {
            JniUtils.zeroGrad((PtNDArray) a);
        }
    }

    /** Frees the copies and their gradients; forwards go back to the policy's default. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // a closed handle only drops this reference: tensors autograd saved stay alive through the graph
        copies.values().forEach(NDArray::close);
        owner.closed(this);
    }
}
