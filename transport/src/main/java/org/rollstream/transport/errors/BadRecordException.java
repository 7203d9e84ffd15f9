package org.rollstream.transport.errors;

/**
 * A record that decoded but can never be processed (token ids out of range, lengths that do not
 * line up, non-finite numbers, an unknown policy). Retrying cannot help: the record goes to its
 * dead-letter topic with this message as the reason, and processing goes on.
 */
public class BadRecordException extends RuntimeException {
    public BadRecordException(String message) {
        super(message);
    }

    public BadRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
