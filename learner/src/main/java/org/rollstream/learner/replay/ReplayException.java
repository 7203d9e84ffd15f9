package org.rollstream.learner.replay;

/** The replay cannot be done with what the run left: a missing run directory, checkpoint, audit record or group. */
public final class ReplayException extends RuntimeException {
    public ReplayException(String message) {
        super(message);
    }
}
