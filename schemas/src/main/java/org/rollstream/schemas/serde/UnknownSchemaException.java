package org.rollstream.schemas.serde;

/** A payload names a writer schema (by fingerprint) that the {@link SchemaRegistry} does not know. */
public final class UnknownSchemaException extends RecordDecodeException {
    private final long fingerprint;

    public UnknownSchemaException(String recordName, long fingerprint, Throwable cause) {
        super(String.format("unknown writer schema fingerprint %016x for %s: the record was written by a schema "
                + "this release does not know (newer producer, or an unregistered old version)", fingerprint, recordName), cause);
        this.fingerprint = fingerprint;
    }

    public long fingerprint() {
        return fingerprint;
    }
}
