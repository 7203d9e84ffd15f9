package org.rollstream.transport;

import org.rollstream.transport.errors.RetriableRecordException;
import reactor.core.publisher.Mono;

/** What a {@link Received} reports to the consumer that handed it out. Called from any thread. */
interface RecordTracker {
    /** {@code r} failed retriably and is {@code NACKED}: deliver it again after a backoff, or dead-letter it. */
    void retry(Received<?> r, RetriableRecordException cause);

    /** {@code r} is {@code DEAD_LETTERING}: write its dead letter; completes (and acks r) once written. */
    Mono<Void> deadLetter(Received<?> r, String stage, Throwable cause);

    /** A failure that is neither bad input nor retriable: the consumer stops and its Flux errors. */
    void fatal(Received<?> r, Throwable cause);
}
