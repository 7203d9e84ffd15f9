package org.rollstream.transport;

/** Kafka could not be reached at startup: thrown instead of letting a role hang on metadata. */
public final class BrokerUnreachableException extends RuntimeException {
    public BrokerUnreachableException(String message, Throwable cause) {
        super(message, cause);
    }
}
