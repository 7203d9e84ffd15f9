package org.rollstream.launcher.pipeline;

/** A stage cannot run: a missing input artifact or a bad setting. The message says what to do. */
public final class PipelineException extends RuntimeException {
    public PipelineException(String message) {
        super(message);
    }
}
