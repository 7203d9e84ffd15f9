package org.rollstream.actor;

import java.net.URI;
import java.nio.file.Path;

import org.rollstream.policy.Device;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.OrtPolicy;
import org.rollstream.policy.OrtSampler;
import org.rollstream.policy.SafetensorsFile;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.Weights;
import org.rollstream.policy.WeightsException;
import org.rollstream.schemas.records.PolicyVersion;

/** Turns an announced {@link PolicyVersion} into a {@link ServingPolicy}, refusing weights that do not check out. */
final class PolicyLoader {
    private final Tokenizer tokenizer;
    private final ActorConfig config;
    private final Device device;

    PolicyLoader(Tokenizer tokenizer, ActorConfig config) {
        this.tokenizer = tokenizer;
        this.config = config;
        this.device = Device.parse(config.device());
    }

    /**
     * Reads the snapshot (its sha-256 must match the announcement, its tensors the spec) and builds
     * the ONNX Runtime session(s) of the configured loop (float16 if configured), so that the first
     * batch finds them ready; slow, so it runs on the follower thread, never between prompts.
     *
     * @throws WeightsException when the file is missing, altered, or of the wrong shape or vocabulary
     */
    ServingPolicy load(PolicyVersion v) {
        Path path = pathOf(v.getWeightsLocation());
        ModelSpec announced = v.getSpec() == null || v.getSpec().isBlank() ? null : parseSpec(v.getSpec());
        SafetensorsFile.Contents c = SafetensorsFile.read(path, v.getSha256(), announced);
        ModelSpec spec = announced != null ? announced : specFromFile(c, path);
        Weights weights = c.weights();
        weights.checkAgainst(spec);
        if (spec.vocabSize() != tokenizer.vocabSize()) {
            throw new WeightsException("weights " + path + " have a vocabulary of " + spec.vocabSize()
                    + " tokens but the actor's tokenizer has " + tokenizer.vocabSize());
        }
        boolean host = config.effectiveSampler() == SamplerChoice.HOST;
        // the host loop runs STEP, built (and checked) by create; the in-graph loop needs only its own graph
        OrtPolicy ort = host ? OrtPolicy.create(spec, weights, device, config.fp16(), 0)
                : OrtPolicy.createWithoutSessions(spec, weights, device, config.fp16(), 0);
        try {
            BatchSampler sampler;
            if (host) {
                sampler = new HostBatchSampler(new OrtSampler(ort, tokenizer));
            } else {
                GraphBatchSampler graph = new GraphBatchSampler(ort, tokenizer);
                graph.prepare(config.temperature(), config.topP(), config.topK()); // fails fast, e.g. CUDA missing
                sampler = graph;
            }
            return new ServingPolicy(PolicyIdentity.of(v), ort, sampler);
        } catch (RuntimeException e) { // ORT refused a session: nothing of this version stays open
            ort.close();
            throw e;
        }
    }

    static Path pathOf(String location) {
        if (location == null || location.isBlank()) {
            throw new WeightsException("policy version has no weights location");
        }
        return location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
    }

    private static ModelSpec parseSpec(String json) {
        try {
            return ModelSpec.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new WeightsException("announced spec is not a ModelSpec: " + e.getMessage(), e);
        }
    }

    private static ModelSpec specFromFile(SafetensorsFile.Contents c, Path path) {
        String json = c.metadata().get(SafetensorsFile.META_SPEC);
        if (json == null) {
            throw new WeightsException("weights " + path + " carry no spec and the announcement gives none");
        }
        return parseSpec(json);
    }
}
