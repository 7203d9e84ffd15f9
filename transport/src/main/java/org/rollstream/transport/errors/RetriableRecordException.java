package org.rollstream.transport.errors;

/**
 * Processing a record failed for a reason that may pass (a scorer endpoint down, a timeout):
 * the record is retried with backoff a bounded number of times, then dead-lettered with the
 * last cause. Anything that is neither this nor {@link BadRecordException} is a bug or a fatal
 * condition: the role logs it and stops cleanly.
 */
public class RetriableRecordException extends RuntimeException {
    public RetriableRecordException(String message) {
        super(message);
    }

    public RetriableRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
