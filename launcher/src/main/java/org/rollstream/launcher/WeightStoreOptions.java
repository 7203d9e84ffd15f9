package org.rollstream.launcher;

import java.util.Optional;
import org.rollstream.transport.weights.AnnouncementSigner;
import org.rollstream.transport.weights.WeightsSettings;
import picocli.CommandLine.Option;

/** Where the learner publishes policy weights, shared by {@code run} and {@code learner}. */
final class WeightStoreOptions {
    @Option(names = "--weights-store", paramLabel = "dir|kafka", defaultValue = "dir", converter = StoreConverter.class,
            description = "Where the learner publishes weights: dir (files in the run directory; every role must see that "
                    + "path) or kafka (chunks on the policy.weights topic; roles share only the cluster). Actors read "
                    + "whichever an announcement names (default: ${DEFAULT-VALUE}).")
    WeightsSettings.Store store;

    @Option(names = "--weights-fp16", description = "Publish weights as F16 (half the bytes to move; actors compute in F32 as before).")
    boolean fp16;

    /** The settings, signed with {@code signer} when present. */
    WeightsSettings settings(Optional<AnnouncementSigner> signer) {
        return new WeightsSettings(store, fp16, signer);
    }

    WeightsSettings settings() {
        return settings(Optional.empty());
    }

    /** dir or kafka, any case; anything else is a usage error naming both. */
    static final class StoreConverter implements picocli.CommandLine.ITypeConverter<WeightsSettings.Store> {
        @Override
        public WeightsSettings.Store convert(String value) {
            return switch (value.toLowerCase(java.util.Locale.ROOT)) {
                case "dir" -> WeightsSettings.Store.DIR;
                case "kafka" -> WeightsSettings.Store.KAFKA;
                default -> throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a weight store: use dir or kafka");
            };
        }
    }
}
