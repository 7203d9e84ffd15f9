package org.rollstream.reward.service;

/** A sampled group that cannot be scored as it is (no completions, misaligned arrays, unknown task). */
public final class MalformedGroupException extends RuntimeException {
    public MalformedGroupException(String message) {
        super(message);
    }
}
