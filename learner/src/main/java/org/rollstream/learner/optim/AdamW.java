package org.rollstream.learner.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.util.PairList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (decoupled weight decay) over a block's parameters. Written here rather than using DJL's
 * optimizer because a checkpoint must carry the moment estimates, which DJL keeps private.
 *
 * <p>Call {@link #step} after the backward pass, outside the gradient collector; it updates the
 * weights in place. The gradients are the parameters' own, or explicit fp32 arrays ({@link Gradients},
 * fp16 compute: the masters' gradients gathered from their fp16 copies).
 */
public final class AdamW {
    private final NDManager manager;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, NDArray> firstMoment = new LinkedHashMap<>();
    private final Map<String, NDArray> secondMoment = new LinkedHashMap<>();
    private long steps;

    public AdamW(NDManager manager, double beta1, double beta2, double eps, double weightDecay) {
        this.manager = manager;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    public static AdamW standard(NDManager manager, double weightDecay) {
        return new AdamW(manager, 0.9, 0.999, 1e-8, weightDecay);
    }

    /** One update of every parameter that has a gradient, with learning rate {@code lr}; then clears the gradients. */
    public void step(PairList<String, Parameter> parameters, double lr) {
        try (Gradients g = Gradients.ofParameters(parameters)) {
            step(g, lr);
        }
        GradientClipping.zero(parameters);
    }

    /**
     * One update of every weight in {@code gradients} from its gradient there, with learning rate
     * {@code lr}. The gradients are read, not cleared: their owner does that.
     */
    public void step(Gradients gradients, double lr) {
        steps++;
        double correction1 = 1 - Math.pow(beta1, steps);
        double correction2 = 1 - Math.pow(beta2, steps);
        for (Gradients.Entry e : gradients.entries()) {
            NDArray w = e.weight();
            NDArray m = firstMoment.computeIfAbsent(e.name(), k -> persistent(w));
            NDArray v = secondMoment.computeIfAbsent(e.name(), k -> persistent(w));
            // temporaries die with the scope; weights and moments are updated in place
            try (NDScope scope = new NDScope()) {
                NDArray g = e.gradient();
                m.muli(beta1).addi(g.mul(1 - beta1));
                v.muli(beta2).addi(g.square().muli(1 - beta2));
                if (weightDecay > 0) {
                    w.subi(w.mul(lr * weightDecay));
                }
                w.subi(m.div(correction1).divi(v.div(correction2).sqrt().addi(eps)).muli(lr));
            }
        }
    }

    /** A zero moment that outlives any {@link NDScope} the caller's step runs in. */
    private NDArray persistent(NDArray like) {
        NDArray a = manager.zeros(like.getShape(), like.getDataType());
        NDScope.unregister(a);
        return a;
    }

    public long steps() {
        return steps;
    }

    /** Moment estimates by name ({@code m.<param>}, {@code v.<param>}) for a checkpoint. */
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        firstMoment.forEach((k, v) -> out.put("m." + k, v));
        secondMoment.forEach((k, v) -> out.put("v." + k, v));
        return out;
    }

    /** Restores what {@link #state()} saved, and the step count used for bias correction. */
    public void restore(Map<String, NDArray> state, long stepCount) {
        firstMoment.clear();
        secondMoment.clear();
        state.forEach((k, v) -> {
            if (k.startsWith("m.")) {
                firstMoment.put(k.substring(2), v);
            } else if (k.startsWith("v.")) {
                secondMoment.put(k.substring(2), v);
            }
        });
        steps = stepCount;
    }
}
