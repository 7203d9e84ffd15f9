package org.rollstream.transport.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.rollstream.schemas.records.PolicyVersion;

/**
 * Signs policy-version announcements with HMAC-SHA256 under a secret the learner and the actors
 * share, and checks them. The signature covers every field that decides what an actor loads and
 * what it stamps on groups: policy, run, incarnation, version, step, weights location, sha-256 (which
 * pins the bytes), creation time and spec; not the informational {@code metrics}. It is written to
 * {@code PolicyVersion.signature} as {@code hmac-sha256:<hex>}. Thread-safe.
 */
public final class AnnouncementSigner {
    public static final String PREFIX = "hmac-sha256:";
    /** The environment variable an actor or learner reads the secret from when no key file is given. */
    public static final String ENV = "ROLLSTREAM_SIGN_KEY";
    /** Shorter secrets are refused: HMAC-SHA256 is only as strong as its key. */
    public static final int MIN_KEY_BYTES = 16;

    /** What {@link #verify} found. */
    public enum Verdict { VALID, UNSIGNED, INVALID }

    private final SecretKeySpec key;

    private AnnouncementSigner(byte[] secret) {
        if (secret.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException("a signing key needs at least " + MIN_KEY_BYTES + " bytes, got " + secret.length);
        }
        this.key = new SecretKeySpec(secret, "HmacSHA256");
    }

    public static AnnouncementSigner of(byte[] secret) {
        return new AnnouncementSigner(secret.clone());
    }

    /**
     * The secret in {@code file}: its bytes without trailing white space (a newline from an editor or
     * {@code echo} is not part of the key).
     *
     * @throws IllegalArgumentException naming the file when it cannot be read or the key is too short
     */
    public static AnnouncementSigner fromFile(Path file) {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read signing key file " + file + ": " + e.getMessage(), e);
        }
        int n = b.length;
        while (n > 0 && Character.isWhitespace(b[n - 1])) {
            n--;
        }
        try {
            return new AnnouncementSigner(Arrays.copyOf(b, n));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("signing key file " + file + ": " + e.getMessage(), e);
        }
    }

    /** The announcement with its signature set (any earlier signature replaced). */
    public PolicyVersion sign(PolicyVersion v) {
        return PolicyVersion.newBuilder(v).setSignature(PREFIX + HexFormat.of().formatHex(mac(v))).build();
    }

    /** Whether {@code v} carries a signature made with this key over its current fields. */
    public Verdict verify(PolicyVersion v) {
        String sig = v.getSignature() == null ? "" : v.getSignature().toString();
        if (sig.isEmpty()) {
            return Verdict.UNSIGNED;
        }
        if (!sig.startsWith(PREFIX)) {
            return Verdict.INVALID;
        }
        byte[] given;
        try {
            given = HexFormat.of().parseHex(sig.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            return Verdict.INVALID;
        }
        return MessageDigest.isEqual(given, mac(v)) ? Verdict.VALID : Verdict.INVALID; // constant time
    }

    private byte[] mac(PolicyVersion v) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            return m.doFinal(canonical(v));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /**
     * The signed bytes: a domain tag, then each field as a 4-byte length and its UTF-8 text, so no
     * two different announcements share an encoding.
     */
    static byte[] canonical(PolicyVersion v) {
        String[] fields = {"rollstream.policy-version.v1", str(v.getPolicy()), str(v.getRunId()),
                Long.toString(v.getIncarnation()), Long.toString(v.getVersion()), Long.toString(v.getStep()),
                str(v.getWeightsLocation()), str(v.getSha256()).toLowerCase(), Long.toString(v.getCreatedAtMs()), str(v.getSpec())};
        int size = 0;
        byte[][] enc = new byte[fields.length][];
        for (int i = 0; i < fields.length; i++) {
            enc[i] = fields[i].getBytes(StandardCharsets.UTF_8);
            size += 4 + enc[i].length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        for (byte[] e : enc) {
            out.putInt(e.length).put(e);
        }
        return out.array();
    }

    private static String str(CharSequence s) {
        return s == null ? "" : s.toString();
    }
}
