package org.rollstream.transport.weights;

import java.util.Optional;

/**
 * How a role publishes or accepts weights.
 *
 * @param store  where the learner publishes: {@link Store#DIR} (its run directory; roles share a disk)
 *               or {@link Store#KAFKA} (the weights topic; roles share only the cluster). Actors read
 *               whatever the announcement names.
 * @param fp16   the learner publishes F16 tensors (half the bytes) instead of F32
 * @param signer when present the learner signs announcements and actors refuse unsigned or
 *               wrongly signed ones; absent: no signing and no checking
 */
public record WeightsSettings(Store store, boolean fp16, Optional<AnnouncementSigner> signer) {
    public enum Store { DIR, KAFKA }

    public WeightsSettings {
        if (store == null) {
            throw new IllegalArgumentException("a weight store is required");
        }
        signer = signer == null ? Optional.empty() : signer;
    }

    /** Today's behaviour: files in the run directory, fp32, unsigned. */
    public static WeightsSettings defaults() {
        return new WeightsSettings(Store.DIR, false, Optional.empty());
    }
}
