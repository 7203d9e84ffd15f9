package org.rollstream.actor;

import org.rollstream.policy.HalfWeights;
import org.rollstream.policy.ort.Device;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.ort.OrtPolicy;
import org.rollstream.policy.ort.OrtSampler;
import org.rollstream.policy.ort.WeightFedSessions;
import org.rollstream.policy.SafetensorsFile;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.Weights;
import org.rollstream.policy.WeightsException;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.transport.weights.WeightStore;

/**
 * Turns an announced {@link PolicyVersion} into a {@link ServingPolicy}, refusing weights that do not
 * check out. With {@link ActorConfig#weightsAsInputs()} it keeps the in-graph sampler's shared
 * sessions ({@link WeightFedSessions}) from one version to the next; {@link #close} lets go of them.
 */
final class PolicyLoader implements AutoCloseable {
    private final Tokenizer tokenizer;
    private final ActorConfig config;
    private final Device device;
    private final WeightStore store;
    private WeightFedSessions fed; // guarded by this; of the last version's spec

    /** @param store fetches the bytes an announcement names (a file, or chunks on the weights topic) */
    PolicyLoader(Tokenizer tokenizer, ActorConfig config, WeightStore store) {
        this.tokenizer = tokenizer;
        this.config = config;
        this.device = Device.parse(config.device());
        this.store = store;
    }

    /**
     * Fetches the snapshot from the store (its sha-256 must match the announcement; chunks fetched
     * from Kafka must each pass their checksum), checks its tensors against the spec and builds the
     * ONNX Runtime session(s) of the configured loop (float16 if configured), so that the first
     * batch finds them ready; slow, so it runs on the follower thread, never between prompts.
     *
     * @throws WeightsException   when the weights are of the wrong shape or vocabulary, or malformed
     * @throws org.rollstream.transport.weights.WeightStoreException when they are missing, partial or altered
     */
    ServingPolicy load(PolicyVersion v) {
        String location = v.getWeightsLocation() == null ? "" : v.getWeightsLocation().toString();
        if (!store.handles(location)) {
            throw new WeightsException("policy version has no usable weights location: '" + location + "'");
        }
        byte[] bytes = store.fetch(location, v.getSha256().toString()).bytes();
        ModelSpec announced = v.getSpec() == null || v.getSpec().isBlank() ? null : parseSpec(v.getSpec());
        // the store checked the whole file against the announced sha-256: the data checksum is not recomputed;
        // a float16 actor takes float16 tensors as they are (no decode to fp32 and back)
        HalfWeights halves = config.fp16() && announced != null ? SafetensorsFile.halvesOfVerifiedBytes(bytes, location, announced) : null;
        Weights weights = null;
        ModelSpec spec = announced;
        if (halves == null) {
            SafetensorsFile.Contents c = SafetensorsFile.fromVerifiedBytes(bytes, location, announced);
            spec = announced != null ? announced : specFromFile(c, location);
            weights = c.weights();
            weights.checkAgainst(spec);
        }
        if (spec.vocabSize() != tokenizer.vocabSize()) {
            throw new WeightsException("weights " + location + " have a vocabulary of " + spec.vocabSize()
                    + " tokens but the actor's tokenizer has " + tokenizer.vocabSize());
        }
        boolean host = config.effectiveSampler() == SamplerChoice.HOST;
        // the host loop runs STEP, built (and checked) by create; the in-graph loop needs only its own graph,
        // which with the weights as inputs is the shared session the previous version already built
        WeightFedSessions shared = config.weightsAsInputs() ? fedSessions(spec) : null;
        OrtPolicy ort;
        if (halves != null) {
            ort = host ? OrtPolicy.create(spec, halves, device, 0) : OrtPolicy.createWithoutSessions(spec, halves, device, 0, shared);
        } else {
            ort = host ? OrtPolicy.create(spec, weights, device, config.fp16(), 0)
                    : OrtPolicy.createWithoutSessions(spec, weights, device, config.fp16(), 0, shared);
        }
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

    /** The shared sessions for {@code spec}: those of the last version, or new ones when the spec changed. */
    private synchronized WeightFedSessions fedSessions(ModelSpec spec) {
        if (fed == null || !fed.serves(spec, device, config.fp16())) {
            if (fed != null) {
                fed.close(); // the versions still serving on them keep them open until they are released
            }
            fed = new WeightFedSessions(spec, device, config.fp16(), 0);
        }
        return fed;
    }

    /** Lets go of the shared sessions; they close once no version serves on them. */
    @Override
    public synchronized void close() {
        if (fed != null) {
            fed.close();
            fed = null;
        }
    }

    private static ModelSpec parseSpec(String json) {
        try {
            return ModelSpec.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new WeightsException("announced spec is not a ModelSpec: " + e.getMessage(), e);
        }
    }

    private static ModelSpec specFromFile(SafetensorsFile.Contents c, String path) {
        String json = c.metadata().get(SafetensorsFile.META_SPEC);
        if (json == null) {
            throw new WeightsException("weights " + path + " carry no spec and the announcement gives none");
        }
        return parseSpec(json);
    }
}
