package org.rollstream.learner.grpo;

/**
 * GRPO hyper-parameters. Defaults are chosen for the built-in tasks on a tiny model; the DeepSeek
 * settings (lr 3e-6, β 0.001, G 16) suit billion-parameter models, not this one.
 *
 * @param groupsPerStep   B: groups (prompts) per optimizer step
 * @param maxStaleness    η: groups sampled by a policy more than η versions behind are dropped; 0 = synchronous
 * @param clipLow         ε_low of the clipped surrogate
 * @param clipHigh        ε_high (clip-higher: larger than ε_low lets unlikely tokens grow)
 * @param klBeta          β of the k3 KL penalty to the frozen reference; 0 disables the reference
 * @param importanceCap   c of the truncated importance weight min(π_old/μ, c); ≤ 0 disables it
 * @param dynamicSampling skip groups whose rewards are all equal (they carry no signal)
 * @param learningRate    AdamW learning rate
 * @param weightDecay     AdamW decoupled weight decay
 * @param maxGradNorm     clip the global gradient norm to this; ≤ 0 disables clipping
 * @param publishEvery    publish new weights every k steps
 */
public record GrpoConfig(int groupsPerStep, int maxStaleness, double clipLow, double clipHigh, double klBeta,
                         double importanceCap, Aggregation aggregation, boolean dynamicSampling,
                         double learningRate, double weightDecay, double maxGradNorm, int publishEvery) {

    public GrpoConfig {
        require(groupsPerStep >= 1, "groups per step must be at least 1, got " + groupsPerStep);
        require(maxStaleness >= 0, "max staleness must be at least 0, got " + maxStaleness);
        require(clipLow >= 0 && clipLow < 1, "clip-low must be in [0, 1), got " + clipLow);
        require(clipHigh >= 0, "clip-high must be at least 0, got " + clipHigh);
        require(klBeta >= 0, "KL beta must be at least 0, got " + klBeta);
        require(learningRate > 0, "learning rate must be positive, got " + learningRate);
        require(weightDecay >= 0, "weight decay must be at least 0, got " + weightDecay);
        require(publishEvery >= 1, "publish-every must be at least 1, got " + publishEvery);
        if (aggregation == null) {
            aggregation = Aggregation.TOKEN_MEAN;
        }
    }

    public static GrpoConfig defaults() {
        return new GrpoConfig(8, 1, 0.2, 0.28, 0.005, 2.0, Aggregation.TOKEN_MEAN, true, 1e-4, 0.0, 1.0, 1);
    }

    public GrpoConfig withMaxStaleness(int eta) {
        return new GrpoConfig(groupsPerStep, eta, clipLow, clipHigh, klBeta, importanceCap, aggregation,
                dynamicSampling, learningRate, weightDecay, maxGradNorm, publishEvery);
    }

    public GrpoConfig withGroupsPerStep(int b) {
        return new GrpoConfig(b, maxStaleness, clipLow, clipHigh, klBeta, importanceCap, aggregation,
                dynamicSampling, learningRate, weightDecay, maxGradNorm, publishEvery);
    }

    /** Groups the feeder may keep in flight ahead of the version being trained: (η + 1)·B. */
    public int inFlightCapacity() {
        return (maxStaleness + 1) * groupsPerStep;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
