package org.rollstream.actor;

import java.util.concurrent.atomic.AtomicInteger;

import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.ort.OrtPolicy;
import org.rollstream.policy.ort.OrtSampler;

/**
 * One loaded policy version with its ONNX Runtime sessions (those of its sampler included: every
 * sampling graph is a session of the one {@link OrtPolicy}), reference counted: the actor holds one
 * reference while it is current, each batch holds one while it samples, and the sessions close
 * when the last reference goes, so a swap never closes a session under a running batch.
 */
final class ServingPolicy {
    private final PolicyIdentity identity;
    private final OrtPolicy policy;
    private final BatchSampler sampler;
    private final AtomicInteger refs = new AtomicInteger(1); // the owner's reference

    /** @param sampler draws with {@code policy}'s sessions only, so closing the policy frees it too */
    ServingPolicy(PolicyIdentity identity, OrtPolicy policy, BatchSampler sampler) {
        this.identity = identity;
        this.policy = policy;
        this.sampler = sampler;
    }

    /** Serving with the host loop. */
    ServingPolicy(PolicyIdentity identity, OrtPolicy policy, OrtSampler sampler) {
        this(identity, policy, new HostBatchSampler(sampler));
    }

    PolicyIdentity identity() {
        return identity;
    }

    long version() {
        return identity.version();
    }

    ModelSpec spec() {
        return policy.spec();
    }

    BatchSampler sampler() {
        return sampler;
    }

    /** Takes a reference for a batch; false when this version was already retired and closed. */
    boolean acquire() {
        while (true) {
            int r = refs.get();
            if (r == 0) {
                return false;
            }
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference (a batch's, or the owner's when swapped out); the last one closes the sessions. */
    void release() {
        if (refs.decrementAndGet() == 0) {
            policy.close();
        }
    }
}
