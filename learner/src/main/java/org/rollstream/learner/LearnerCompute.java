package org.rollstream.learner;

import org.rollstream.learner.optim.LossScale;
import org.rollstream.policy.djl.ComputePrecision;

/**
 * How the learner computes: where its models and optimizer state live, the matmul precision
 * (master weights are fp32 either way) and how many sequences one forward/backward pass holds.
 * None of these changes what is learned beyond float rounding.
 *
 * @param device         cpu or cuda:N
 * @param precision      fp32 or fp16 (bf16 is refused, see {@link ComputePrecision#unsupportedReason()})
 * @param microBatchSize sequences (GRPO) or examples (SFT) per forward/backward pass, gradients
 *                       accumulated; 0 = the whole mini-batch in one pass
 */
public record LearnerCompute(LearnerDevice device, ComputePrecision precision, int microBatchSize) {
    public LearnerCompute {
        if (device == null) {
            device = LearnerDevice.CPU;
        }
        if (precision == null) {
            precision = ComputePrecision.FP32;
        }
        if (precision.unsupportedReason() != null) {
            throw new IllegalArgumentException(precision.unsupportedReason());
        }
        if (microBatchSize < 0) {
            throw new IllegalArgumentException("micro-batch size must be at least 0 (0 = whole mini-batch), got " + microBatchSize);
        }
    }

    /** CPU, fp32, one pass per mini-batch: the behaviour before these settings existed. */
    public static LearnerCompute defaults() {
        return new LearnerCompute(LearnerDevice.CPU, ComputePrecision.FP32, 0);
    }

    /** A fresh loss scale for this precision: dynamic for fp16, none for fp32. */
    public LossScale newLossScale() {
        return precision.reduced() ? LossScale.dynamic() : LossScale.none();
    }
}
