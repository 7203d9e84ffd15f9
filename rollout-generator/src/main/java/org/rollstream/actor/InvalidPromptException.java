package org.rollstream.actor;

/** A prompt the actor cannot sample (unknown task, empty text, longer than the context); it goes to the DLQ. */
public final class InvalidPromptException extends RuntimeException {
    public InvalidPromptException(String message) {
        super(message);
    }
}
