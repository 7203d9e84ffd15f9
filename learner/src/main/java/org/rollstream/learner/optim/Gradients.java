package org.rollstream.learner.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * The gradients one optimizer update reads: for each trained parameter, its weight and the fp32
 * array holding its gradient. With fp32 compute these are the parameters' own gradients; with fp16
 * compute they are buffers the trainer filled from the fp16 compute weights ({@link PolicyGradients}).
 * Clipping and {@link AdamW} modify the gradients in place and never free them.
 */
public final class Gradients implements AutoCloseable {
    /** One parameter's weight (updated in place) and its gradient. */
    public record Entry(String name, NDArray weight, NDArray gradient) {
    }

    private final List<Entry> entries;
    private final boolean ownsHandles;

    private Gradients(List<Entry> entries, boolean ownsHandles) {
        this.entries = List.copyOf(entries);
        this.ownsHandles = ownsHandles;
    }

    /**
     * The gradients the parameters hold themselves (those that record one), in parameter order.
     * The gradient handles are this object's and are closed with it (that frees nothing of the
     * gradients).
     */
    public static Gradients ofParameters(PairList<String, Parameter> parameters) {
        List<Entry> out = new ArrayList<>(parameters.size());
        for (Pair<String, Parameter> p : parameters) {
            NDArray w = p.getValue().getArray();
            if (w.hasGradient()) {
                NDArray g = w.getGradient();
                NDScope.unregister(g);
                out.add(new Entry(p.getKey(), w, g));
            }
        }
        return new Gradients(out, true);
    }

    /** Gradients held elsewhere; their owner frees them, not {@link #close()}. */
    public static Gradients of(List<Entry> entries) {
        return new Gradients(entries, false);
    }

    public List<Entry> entries() {
        return entries;
    }

    @Override
    public void close() {
        if (ownsHandles) {
            entries.forEach(e -> e.gradient().close());
        }
    }
}
