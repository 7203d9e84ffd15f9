package org.rollstream.tasks;

import java.util.Objects;

/** Outcome of checking one answer; {@code reason} says why it was rejected (empty when correct). */
public record Verdict(boolean correct, String reason) {

    public Verdict {
        Objects.requireNonNull(reason, "reason");
    }

    public static Verdict ok() {
        return new Verdict(true, "");
    }

    public static Verdict wrong(String reason) {
        return new Verdict(false, reason);
    }
}
