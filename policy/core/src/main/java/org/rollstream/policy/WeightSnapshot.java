package org.rollstream.policy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A versioned weights file: where it is, its sha-256, and what it holds. The sha-256 travels with
 * the version announcement so readers can refuse a file that changed in between.
 */
public record WeightSnapshot(Path path, String sha256, long version, long step, ModelSpec spec) {

    /** Writes {@code dir/policy-v<version>.safetensors} with version, step and spec metadata. */
    public static WeightSnapshot write(Path dir, Weights weights, ModelSpec spec, long version, long step) {
        return write(dir.resolve(String.format("policy-v%06d.safetensors", version)), weights, spec, version, step, false);
    }

    public static WeightSnapshot write(Path file, Weights weights, ModelSpec spec, long version, long step, boolean fp16) {
        weights.checkAgainst(spec);
        String sha = SafetensorsFile.write(file, weights, metadata(spec, version, step), fp16);
        return new WeightSnapshot(file, sha, version, step, spec);
    }

    /**
     * The file {@link #write(Path, Weights, ModelSpec, long, long, boolean)} writes, as bytes in memory,
     * for a version that is announced with its whole sha-256: the header leaves out the data checksum
     * (readers check the whole against the announcement), which spares the publisher a pass over the data.
     */
    public static byte[] toBytes(Weights weights, ModelSpec spec, long version, long step, boolean fp16) {
        weights.checkAgainst(spec);
        return SafetensorsFile.toBytes(weights, metadata(spec, version, step), fp16, false);
    }

    /** {@link #toBytes(Weights, ModelSpec, long, long, boolean)} of float16 tensors as they are (a float16 file). */
    public static byte[] toBytes(HalfWeights halves, ModelSpec spec, long version, long step) {
        halves.checkAgainst(spec);
        return SafetensorsFile.toBytes(halves, metadata(spec, version, step));
    }

    private static Map<String, String> metadata(ModelSpec spec, long version, long step) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put(SafetensorsFile.META_VERSION, Long.toString(version));
        meta.put(SafetensorsFile.META_STEP, Long.toString(step));
        meta.put(SafetensorsFile.META_SPEC, spec.toJson());
        return meta;
    }

    /** Loads the tensors, verifying the file checksum and the shapes against {@link #spec()}. */
    public Weights load() {
        return SafetensorsFile.read(path, sha256, spec).weights();
    }

    /** Opens an existing file, taking version, step and spec from its metadata (checks its data checksum). */
    public static WeightSnapshot open(Path file) {
        SafetensorsFile.Contents c = SafetensorsFile.read(file);
        Map<String, String> m = c.metadata();
        String spec = m.get(SafetensorsFile.META_SPEC);
        if (spec == null) throw new WeightsException("weights file " + file + " has no spec metadata");
        return new WeightSnapshot(file, c.sha256(), Long.parseLong(m.getOrDefault(SafetensorsFile.META_VERSION, "0")),
                Long.parseLong(m.getOrDefault(SafetensorsFile.META_STEP, "0")), ModelSpec.fromJson(spec));
    }
}
