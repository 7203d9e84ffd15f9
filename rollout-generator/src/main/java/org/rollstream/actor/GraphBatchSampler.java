package org.rollstream.actor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.rollstream.policy.FinishReason;
import org.rollstream.policy.ort.InGraphSampler;
import org.rollstream.policy.ort.OrtPolicy;
import org.rollstream.policy.SampleRequest;
import org.rollstream.policy.SampledCompletion;
import org.rollstream.policy.SampledSequence;
import org.rollstream.policy.SamplingParams;
import org.rollstream.policy.Tokenizer;

/**
 * The in-graph loop ({@link InGraphSampler}; fused graphs on CUDA): {@link SamplingParams} become a
 * {@link SampleRequest} with one seed per row derived from the batch's seed (so an actor's run is
 * reproducible batch by batch), the stop tokens given or else the tokenizer's eos, and the default
 * nucleus cap. Its session is created by {@link #prepare} (on the loader's thread, not in a batch)
 * and belongs to the {@link OrtPolicy}: it closes with it.
 */
final class GraphBatchSampler implements BatchSampler {
    private final InGraphSampler sampler;
    private final Tokenizer tokenizer;

    GraphBatchSampler(OrtPolicy policy, Tokenizer tokenizer) {
        this.sampler = new InGraphSampler(policy);
        this.tokenizer = tokenizer;
    }

    /** Builds the session of the graph these settings use, so the first batch does not pay for it. */
    void prepare(float temperature, float topP, int topK) {
        sampler.prepare(temperature, topP, topK);
    }

    @Override
    public Batch sample(List<int[]> prompts, int groupSize, SamplingParams params) {
        int[] stops = params.stopTokenIds().length > 0 ? params.stopTokenIds() : new int[]{tokenizer.eos()};
        SampleRequest req = new SampleRequest(prompts, groupSize, params.temperature(), params.topP(), params.topK(),
                SampleRequest.rowSeeds(params.seed(), prompts.size() * groupSize), params.maxNewTokens(), stops,
                SampleRequest.DEFAULT_NUCLEUS_CAP);
        List<List<SampledCompletion>> drawn = sampler.sample(req);
        List<List<SampledSequence>> groups = new ArrayList<>(drawn.size());
        long limited = 0;
        for (List<SampledCompletion> group : drawn) {
            List<SampledSequence> seqs = new ArrayList<>(group.size());
            for (SampledCompletion c : group) {
                limited += c.nucleusLimitedSteps();
                int[] ids = c.tokenIds();
                int textLength = c.finishReason() == FinishReason.STOP ? ids.length - 1 : ids.length;
                seqs.add(new SampledSequence(ids, tokenizer.decode(Arrays.copyOf(ids, textLength)), c.logProbs(),
                        c.policyLogProbs(), c.finishReason()));
            }
            groups.add(seqs);
        }
        return new Batch(groups, limited);
    }

    @Override
    public SamplerChoice kind() {
        return SamplerChoice.GRAPH;
    }
}
