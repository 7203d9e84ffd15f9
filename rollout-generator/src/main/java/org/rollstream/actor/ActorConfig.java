package org.rollstream.actor;

import java.util.regex.Pattern;

/**
 * Settings of one actor.
 *
 * @param actorId         instance name, written into every group and dead letter
 * @param consumerGroup   Kafka group shared by all actors, so they split the prompts by partition
 * @param policyName      which policy's versions to follow (the key on {@code policy.versions})
 * @param groupSize       G, completions sampled per prompt
 * @param temperature     sampling temperature (&gt; 0)
 * @param topP            nucleus mass in (0, 1]
 * @param maxNewTokens    generation budget per completion
 * @param promptsPerBatch prompts sampled together in one batched call (batch = promptsPerBatch · G sequences)
 * @param device          {@code cpu}, {@code cuda} or {@code cuda:N}
 * @param seed            sampling seed; each batch derives its own from it
 * @param topK            keep only the k most likely tokens before the top-p cut; 0 = no cut
 * @param sampler         which decoding loop samples ({@link SamplerChoice}); AUTO picks per device
 * @param fp16            run the policy in float16 (CUDA only)
 * @param samplerWeights  how the in-graph sampler takes a version's weights ({@link SamplerWeights})
 */
public record ActorConfig(String actorId, String consumerGroup, String policyName, int groupSize, float temperature,
                          float topP, int maxNewTokens, int promptsPerBatch, String device, long seed, int topK,
                          SamplerChoice sampler, boolean fp16, SamplerWeights samplerWeights) {
    public static final String DEFAULT_GROUP = "rollstream-actors";
    public static final String DEFAULT_POLICY = "default";
    private static final Pattern DEVICE = Pattern.compile("cpu|cuda(:\\d+)?");

    public ActorConfig {
        require(actorId != null && !actorId.isBlank(), "actorId must not be blank");
        require(consumerGroup != null && !consumerGroup.isBlank(), "consumer group must not be blank");
        require(policyName != null && !policyName.isBlank(), "policy name must not be blank");
        require(groupSize >= 1, "groupSize (G) must be at least 1, got " + groupSize);
        require(temperature > 0 && Float.isFinite(temperature), "temperature must be a positive number, got " + temperature);
        require(topP > 0 && topP <= 1, "topP must be in (0, 1], got " + topP);
        require(maxNewTokens >= 1, "maxNewTokens must be at least 1, got " + maxNewTokens);
        require(promptsPerBatch >= 1, "promptsPerBatch must be at least 1, got " + promptsPerBatch);
        require(topK >= 0, "topK must be at least 0 (0 = no cut), got " + topK);
        require(device != null && DEVICE.matcher(device).matches(),
                "device must be 'cpu', 'cuda' or 'cuda:N', got '" + device + "'");
        require(sampler != null, "sampler must be host, graph or auto");
        require(!fp16 || !device.equals("cpu"), "fp16 needs a CUDA device (the CPU runs float32)");
        require(samplerWeights != null, "sampler weights must be initializers, inputs or auto");
    }

    /** The automatic sampler, float32. */
    public ActorConfig(String actorId, String consumerGroup, String policyName, int groupSize, float temperature,
                       float topP, int maxNewTokens, int promptsPerBatch, String device, long seed, int topK) {
        this(actorId, consumerGroup, policyName, groupSize, temperature, topP, maxNewTokens, promptsPerBatch, device, seed, topK,
                SamplerChoice.AUTO, false, SamplerWeights.AUTO);
    }

    /** G=8, temperature 1, top-p 1, 48 new tokens, 8 prompts per batch, on the CPU. */
    public static ActorConfig defaults(String actorId) {
        return new ActorConfig(actorId, DEFAULT_GROUP, DEFAULT_POLICY, 8, 1.0f, 1.0f, 48, 8, "cpu", 42L, 0);
    }

    public ActorConfig withActorId(String id) {
        return new ActorConfig(id, consumerGroup, policyName, groupSize, temperature, topP, maxNewTokens, promptsPerBatch, device, seed, topK, sampler, fp16, samplerWeights);
    }

    public ActorConfig withConsumerGroup(String group) {
        return new ActorConfig(actorId, group, policyName, groupSize, temperature, topP, maxNewTokens, promptsPerBatch, device, seed, topK, sampler, fp16, samplerWeights);
    }

    public ActorConfig withPolicyName(String name) {
        return new ActorConfig(actorId, consumerGroup, name, groupSize, temperature, topP, maxNewTokens, promptsPerBatch, device, seed, topK, sampler, fp16, samplerWeights);
    }

    public ActorConfig withSampling(int g, float temp, float p, int maxNew) {
        return new ActorConfig(actorId, consumerGroup, policyName, g, temp, p, maxNew, promptsPerBatch, device, seed, topK, sampler, fp16, samplerWeights);
    }

    public ActorConfig withPromptsPerBatch(int n) {
        return new ActorConfig(actorId, consumerGroup, policyName, groupSize, temperature, topP, maxNewTokens, n, device, seed, topK, sampler, fp16, samplerWeights);
    }

    public ActorConfig withDevice(String d) {
        return new ActorConfig(actorId, consumerGroup, policyName, groupSize, temperature, topP, maxNewTokens, promptsPerBatch, d, seed, topK, sampler, fp16, samplerWeights);
    }

    public ActorConfig withSeed(long s) {
        return new ActorConfig(actorId, consumerGroup, policyName, groupSize, temperature, topP, maxNewTokens, promptsPerBatch, device, s, topK, sampler, fp16, samplerWeights);
    }

    public ActorConfig withTopK(int k) {
        return new ActorConfig(actorId, consumerGroup, policyName, groupSize, temperature, topP, maxNewTokens, promptsPerBatch, device, seed, k, sampler, fp16, samplerWeights);
    }

    public ActorConfig withSampler(SamplerChoice choice) {
        return new ActorConfig(actorId, consumerGroup, policyName, groupSize, temperature, topP, maxNewTokens, promptsPerBatch, device, seed, topK,
                choice, fp16, samplerWeights);
    }

    public ActorConfig withFp16(boolean half) {
        return new ActorConfig(actorId, consumerGroup, policyName, groupSize, temperature, topP, maxNewTokens, promptsPerBatch, device, seed, topK,
                sampler, half, samplerWeights);
    }

    public ActorConfig withSamplerWeights(SamplerWeights w) {
        return new ActorConfig(actorId, consumerGroup, policyName, groupSize, temperature, topP, maxNewTokens, promptsPerBatch, device, seed, topK,
                sampler, fp16, w);
    }

    /** Whether the in-graph sampler runs on shared sessions fed each version's weights: {@link #samplerWeights} with AUTO resolved. */
    public boolean weightsAsInputs() {
        return effectiveSampler() == SamplerChoice.GRAPH && samplerWeights.asInputs(!device.equals("cpu"));
    }

    /** The loop this actor samples with: {@link #sampler} with AUTO resolved. */
    public SamplerChoice effectiveSampler() {
        return sampler.resolve();
    }

    /** CUDA device ordinal, or -1 for the CPU. */
    public int cudaDevice() {
        if (device.equals("cpu")) {
            return -1;
        }
        return device.equals("cuda") ? 0 : Integer.parseInt(device.substring(5));
    }

    /** @throws IllegalArgumentException naming the setting: a caller's mistake (the launcher turns it into a usage error) */
    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
