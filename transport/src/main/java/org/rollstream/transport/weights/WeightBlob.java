package org.rollstream.transport.weights;

import java.util.Objects;

/**
 * One policy version's safetensors file, whole, as a store takes it.
 *
 * @param policy      policy name (the key of {@code policy.versions})
 * @param runId       the learner run that trained it
 * @param incarnation which start of that run publishes it
 * @param version     the policy version
 * @param bytes       the file's bytes; not copied, so not to be changed after handing over
 * @param sha256      sha-256 hex of {@code bytes}, or null where the publisher computes it while a store sends the
 *                    bytes (then the chunks on the weights topic carry none; the announcement does)
 * @param fp16        whether the tensors are stored as F16 (else F32)
 */
public record WeightBlob(String policy, String runId, long incarnation, long version, byte[] bytes, String sha256,
                         boolean fp16) {
    public WeightBlob {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(bytes, "bytes");
        if (version < 0 || incarnation < 0) {
            throw new IllegalArgumentException("version and incarnation must be at least 0");
        }
    }
}
