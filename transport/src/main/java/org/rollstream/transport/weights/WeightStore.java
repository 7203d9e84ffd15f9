package org.rollstream.transport.weights;

/**
 * Immutable policy weight files, addressed by the location string announced in
 * {@code PolicyVersion.weightsLocation}. A store never hands out bytes other than those stored under
 * a location: {@link #fetch} checks them against the announced sha-256 (and a chunked store each
 * chunk's checksum) and throws rather than return something partial or altered.
 */
public interface WeightStore extends AutoCloseable {

    /** Fetched bytes with where the time went (for the hand-over figures). */
    record Fetched(byte[] bytes, long readNanos, long verifyNanos) {
    }

    /**
     * Stores {@code blob} so that readers can fetch it; returns once it is durable (a broker has
     * acknowledged every piece, or the file is in place).
     *
     * @return the location to announce
     * @throws WeightStoreException when it cannot be stored, or the version is already stored
     */
    String put(WeightBlob blob);

    /**
     * The whole file stored at {@code location}, whose sha-256 is {@code sha256}.
     *
     * @throws WeightStoreException when it is missing, partial, or fails a checksum
     */
    Fetched fetch(String location, String sha256);

    /** Whether {@code location} names something this store can fetch. */
    boolean handles(String location);

    @Override
    void close();
}
