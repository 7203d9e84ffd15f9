package org.rollstream.reward;

/** Why sampling stopped: an end token ({@code STOP}) or the token limit ({@code LENGTH}, the completion is truncated). */
public enum FinishReason {
    STOP, LENGTH, UNKNOWN;

    /** Case-insensitive; null, empty or anything unknown gives {@code UNKNOWN}. */
    public static FinishReason parse(String s) {
        if (s != null) {
            for (FinishReason r : values()) {
                if (r.name().equalsIgnoreCase(s.strip())) {
                    return r;
                }
            }
        }
        return UNKNOWN;
    }
}
