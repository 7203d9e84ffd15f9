package org.rollstream.policy;

/** A weights file or weight set that cannot be used: bad checksum, malformed header, wrong shape. */
public class WeightsException extends RuntimeException {
    public WeightsException(String message) {
        super(message);
    }

    public WeightsException(String message, Throwable cause) {
        super(message, cause);
    }
}
