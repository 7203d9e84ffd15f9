package org.rollstream.learner.grpo;

/**
 * GRPO hyper-parameters. Defaults are chosen for the built-in tasks on a tiny model; the DeepSeek
 * settings (lr 3e-6, β 0.001, G 16) suit billion-parameter models, not this one. Build one by name
 * with {@link #builder()}; the positional constructors are for compact tests.
 *
 * @param groupsPerStep   B: groups (prompts) per step
 * @param maxStaleness    η: groups sampled by a policy more than η versions behind are dropped; 0 = synchronous
 * @param clipLow         ε_low of the clipped surrogate
 * @param clipHigh        ε_high (clip-higher: larger than ε_low lets unlikely tokens grow)
 * @param klBeta          β of the k3 KL penalty to the frozen reference; 0 disables the reference
 * @param importanceCap   c of the truncated importance weight min(π_prox/μ, c); ≤ 0 disables it
 * @param dynamicSampling skip groups whose rewards are all equal (they carry no signal)
 * @param learningRate    AdamW learning rate
 * @param weightDecay     AdamW decoupled weight decay
 * @param maxGradNorm     clip the global gradient norm of each optimizer update to this; ≤ 0 disables clipping
 * @param publishEvery    publish new weights every k steps
 * @param miniBatches     M: a step's groups are split into M mini-batches, one optimizer update each; 1 ≤ M ≤ B
 * @param ppoEpochs       E: passes over the step's mini-batches; a step makes M·E optimizer updates
 * @param samplingLag     a: updates a prompt's sampler may lag the newest weights at the prompt's issue (0 ≤ a ≤ η);
 *                        the feeder then keeps (η − a + 1)·B prompts ahead, so η still bounds every trained group
 */
public record GrpoConfig(int groupsPerStep, int maxStaleness, double clipLow, double clipHigh, double klBeta,
                         double importanceCap, Aggregation aggregation, boolean dynamicSampling,
                         double learningRate, double weightDecay, double maxGradNorm, int publishEvery,
                         int miniBatches, int ppoEpochs, int samplingLag) {

    public GrpoConfig {
        require(groupsPerStep >= 1, "groups per step must be at least 1, got " + groupsPerStep);
        require(maxStaleness >= 0, "max staleness must be at least 0, got " + maxStaleness);
        require(clipLow >= 0 && clipLow < 1, "clip-low must be in [0, 1), got " + clipLow);
        require(clipHigh >= 0, "clip-high must be at least 0, got " + clipHigh);
        require(klBeta >= 0, "KL beta must be at least 0, got " + klBeta);
        require(learningRate > 0, "learning rate must be positive, got " + learningRate);
        require(weightDecay >= 0, "weight decay must be at least 0, got " + weightDecay);
        require(publishEvery >= 1, "publish-every must be at least 1, got " + publishEvery);
        require(miniBatches >= 1, "mini-batches must be at least 1, got " + miniBatches);
        require(ppoEpochs >= 1, "PPO epochs must be at least 1, got " + ppoEpochs);
        require(samplingLag >= 0 && samplingLag <= maxStaleness, "sampling lag must be in [0, η = " + maxStaleness
                + "], got " + samplingLag + ": a sampler further behind would make groups older than η");
        require(miniBatches <= groupsPerStep, "mini-batches (" + miniBatches
                + ") must not exceed groups per step (" + groupsPerStep + "): each mini-batch holds whole groups");
        if (aggregation == null) {
            aggregation = Aggregation.TOKEN_MEAN;
        }
    }

    /** Samplers never behind the newest weights at issue (sampling lag 0). */
    public GrpoConfig(int groupsPerStep, int maxStaleness, double clipLow, double clipHigh, double klBeta,
                      double importanceCap, Aggregation aggregation, boolean dynamicSampling,
                      double learningRate, double weightDecay, double maxGradNorm, int publishEvery,
                      int miniBatches, int ppoEpochs) {
        this(groupsPerStep, maxStaleness, clipLow, clipHigh, klBeta, importanceCap, aggregation, dynamicSampling,
                learningRate, weightDecay, maxGradNorm, publishEvery, miniBatches, ppoEpochs, 0);
    }

    /** One mini-batch and one epoch: a single update per step, as in DeepSeekMath. */
    public GrpoConfig(int groupsPerStep, int maxStaleness, double clipLow, double clipHigh, double klBeta,
                      double importanceCap, Aggregation aggregation, boolean dynamicSampling,
                      double learningRate, double weightDecay, double maxGradNorm, int publishEvery) {
        this(groupsPerStep, maxStaleness, clipLow, clipHigh, klBeta, importanceCap, aggregation, dynamicSampling,
                learningRate, weightDecay, maxGradNorm, publishEvery, 1, 1);
    }

    public static GrpoConfig defaults() {
        return builder().build();
    }

    /** A builder holding the defaults; every setter names its field. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public GrpoConfig withMaxStaleness(int eta) {
        return toBuilder().maxStaleness(eta).build();
    }

    public GrpoConfig withGroupsPerStep(int b) {
        return toBuilder().groupsPerStep(b).build();
    }

    /** The same settings with M mini-batches and E epochs per step. */
    public GrpoConfig withPpo(int miniBatches, int ppoEpochs) {
        return toBuilder().miniBatches(miniBatches).ppoEpochs(ppoEpochs).build();
    }

    /** Optimizer updates per full step: M·E. */
    public int updatesPerStep() {
        return miniBatches * ppoEpochs;
    }

    /** Groups the feeder may keep in flight ahead of the version being trained: (η − a + 1)·B. */
    public int inFlightCapacity() {
        return (maxStaleness - samplingLag + 1) * groupsPerStep;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Named construction; {@link #build()} validates as the record's constructor does. */
    public static final class Builder {
        private int groupsPerStep = 8;
        private int maxStaleness = 1;
        private double clipLow = 0.2;
        private double clipHigh = 0.28;
        private double klBeta = 0.005;
        private double importanceCap = 2.0;
        private Aggregation aggregation = Aggregation.TOKEN_MEAN;
        private boolean dynamicSampling = true;
        private double learningRate = 1e-4;
        private double weightDecay = 0.0;
        private double maxGradNorm = 1.0;
        private int publishEvery = 1;
        private int miniBatches = 1;
        private int ppoEpochs = 1;
        private int samplingLag = 0;

        private Builder() {
        }

        private Builder(GrpoConfig c) {
            groupsPerStep = c.groupsPerStep;
            maxStaleness = c.maxStaleness;
            clipLow = c.clipLow;
            clipHigh = c.clipHigh;
            klBeta = c.klBeta;
            importanceCap = c.importanceCap;
            aggregation = c.aggregation;
            dynamicSampling = c.dynamicSampling;
            learningRate = c.learningRate;
            weightDecay = c.weightDecay;
            maxGradNorm = c.maxGradNorm;
            publishEvery = c.publishEvery;
            miniBatches = c.miniBatches;
            ppoEpochs = c.ppoEpochs;
            samplingLag = c.samplingLag;
        }

        public Builder groupsPerStep(int v) {
            groupsPerStep = v;
            return this;
        }

        public Builder maxStaleness(int v) {
            maxStaleness = v;
            return this;
        }

        public Builder clipLow(double v) {
            clipLow = v;
            return this;
        }

        public Builder clipHigh(double v) {
            clipHigh = v;
            return this;
        }

        public Builder klBeta(double v) {
            klBeta = v;
            return this;
        }

        public Builder importanceCap(double v) {
            importanceCap = v;
            return this;
        }

        public Builder aggregation(Aggregation v) {
            aggregation = v;
            return this;
        }

        public Builder dynamicSampling(boolean v) {
            dynamicSampling = v;
            return this;
        }

        public Builder learningRate(double v) {
            learningRate = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        public Builder maxGradNorm(double v) {
            maxGradNorm = v;
            return this;
        }

        public Builder publishEvery(int v) {
            publishEvery = v;
            return this;
        }

        public Builder miniBatches(int v) {
            miniBatches = v;
            return this;
        }

        public Builder ppoEpochs(int v) {
            ppoEpochs = v;
            return this;
        }

        public Builder samplingLag(int v) {
            samplingLag = v;
            return this;
        }

        /** @throws IllegalArgumentException naming the first setting out of range */
        public GrpoConfig build() {
            return new GrpoConfig(groupsPerStep, maxStaleness, clipLow, clipHigh, klBeta, importanceCap, aggregation,
                    dynamicSampling, learningRate, weightDecay, maxGradNorm, publishEvery, miniBatches, ppoEpochs, samplingLag);
        }
    }
}
