package org.rollstream.transport.errors;

/**
 * A record was handed to user code and neither acked nor nacked within the consumer's processing
 * timeout. It is treated like a {@link RetriableRecordException}: redelivered with backoff a bounded
 * number of times, then dead-lettered with this message, so a lost or hung record never holds its
 * partition's commits back for good.
 */
public class ProcessingTimeoutException extends RetriableRecordException {
    public ProcessingTimeoutException(String message) {
        super(message);
    }
}
