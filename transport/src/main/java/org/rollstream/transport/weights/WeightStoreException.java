package org.rollstream.transport.weights;

/**
 * Weights could not be stored, or could not be fetched whole and intact: missing, partial, a chunk
 * or the whole failing its checksum. A reader refusing a version this way keeps what it serves.
 */
public class WeightStoreException extends RuntimeException {
    public WeightStoreException(String message) {
        super(message);
    }

    public WeightStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
