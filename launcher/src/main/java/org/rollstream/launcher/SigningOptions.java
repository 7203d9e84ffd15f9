package org.rollstream.launcher;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import org.rollstream.transport.weights.AnnouncementSigner;
import org.rollstream.transport.weights.WeightsSettings;
import picocli.CommandLine.Option;

/**
 * The shared secret that signs policy-version announcements (learner) and that actors check them
 * with: from {@code --sign-key-file}, else from the environment variable
 * {@value AnnouncementSigner#ENV}; neither: no signing, no checking.
 */
final class SigningOptions {
    @Option(names = "--sign-key-file", paramLabel = "FILE",
            description = "Secret (at least 16 bytes; trailing white space ignored) for HMAC-SHA256 signatures of weight "
                    + "announcements: the learner signs, actors refuse unsigned or wrongly signed versions. Without it the "
                    + "secret is read from $" + AnnouncementSigner.ENV + " if set; otherwise nothing is signed or checked.")
    Path keyFile;

    /** @throws UsageException when the file cannot be read or the key is too short */
    Optional<AnnouncementSigner> signer() {
        return signer(System.getenv(AnnouncementSigner.ENV));
    }

    Optional<AnnouncementSigner> signer(String env) {
        try {
            if (keyFile != null) {
                return Optional.of(AnnouncementSigner.fromFile(keyFile));
            }
            if (env != null && !env.isBlank()) {
                return Optional.of(AnnouncementSigner.of(env.strip().getBytes(StandardCharsets.UTF_8)));
            }
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            throw new UsageException(keyFile != null ? e.getMessage() : "$" + AnnouncementSigner.ENV + ": " + e.getMessage());
        }
    }

    /** An actor's settings: it reads any store and checks signatures when it has a key. */
    WeightsSettings actorSettings() {
        return new WeightsSettings(WeightsSettings.Store.DIR, false, signer());
    }
}
