package org.rollstream.schemas.serde;

/** A payload could not be turned into a record: bad header, truncated body, unreadable data. */
public class RecordDecodeException extends RuntimeException {
    public RecordDecodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
