package org.rollstream.actor;

import java.util.List;

import org.rollstream.policy.ort.OrtSampler;
import org.rollstream.policy.SamplingParams;

/** The host loop ({@link OrtSampler}): the reference implementation. */
final class HostBatchSampler implements BatchSampler {
    private final OrtSampler sampler;

    HostBatchSampler(OrtSampler sampler) {
        this.sampler = sampler;
    }

    @Override
    public Batch sample(List<int[]> prompts, int groupSize, SamplingParams params) {
        return new Batch(sampler.sample(prompts, groupSize, params), 0);
    }

    @Override
    public SamplerChoice kind() {
        return SamplerChoice.HOST;
    }
}
