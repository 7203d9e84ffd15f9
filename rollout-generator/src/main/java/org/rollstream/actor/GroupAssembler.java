package org.rollstream.actor;

import java.util.ArrayList;
import java.util.List;

import org.rollstream.policy.SampledSequence;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.FinishReason;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;

/** Builds the {@link SampledGroup} record of one prompt from the sampler's sequences. */
final class GroupAssembler {
    private final ActorConfig config;

    GroupAssembler(ActorConfig config) {
        this.config = config;
    }

    /**
     * The group id names this sampling: the prompt id, the actor and a random suffix. A prompt can be
     * sampled more than once (redelivered to another actor, issued again by a resumed learner), and
     * each sampling is a different group with different completions; the learner deduplicates by
     * prompt id, while joins of external reward components, the audit log and replay need the exact
     * group.
     *
     * @param weights the weights that sampled the sequences: the group is stamped with them, never with
     *                what the prompt asked for
     */
    SampledGroup assemble(Prompt prompt, int[] promptTokens, List<SampledSequence> sequences, PolicyIdentity weights, long generationMs) {
        List<Completion> completions = new ArrayList<>(sequences.size());
        for (SampledSequence s : sequences) {
            completions.add(Completion.newBuilder()
                    .setTokenIds(ints(s.tokenIds()))
                    .setText(s.text() == null ? "" : s.text())
                    .setLogProbs(floats(s.logProbs()))
                    .setPolicyLogProbs(floats(s.policyLogProbs()))
                    .setFinishReason(s.finishReason() == org.rollstream.policy.FinishReason.STOP ? FinishReason.STOP : FinishReason.LENGTH)
                    .setPromptTokens(promptTokens.length)
                    .setGenerationMs(generationMs)
                    .setPolicyVersion(weights.version())
                    .build());
        }
        return SampledGroup.newBuilder()
                .setGroupId(prompt.getId() + "@" + config.actorId() + "#"
                        + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 16))
                .setPrompt(prompt)
                .setPromptTokenIds(ints(promptTokens))
                .setPolicyVersion(weights.version())
                .setPolicyRunId(weights.runId())
                .setActorId(config.actorId())
                .setCompletions(completions)
                .setTemperature(config.temperature())
                .setTopP(config.topP())
                .setTopK(config.topK())
                .setCreatedAtMs(System.currentTimeMillis())
                .build();
    }

    private static List<Integer> ints(int[] a) {
        List<Integer> out = new ArrayList<>(a.length);
        for (int x : a) {
            out.add(x);
        }
        return out;
    }

    private static List<Float> floats(float[] a) {
        List<Float> out = new ArrayList<>(a.length);
        for (float x : a) {
            out.add(x);
        }
        return out;
    }
}
