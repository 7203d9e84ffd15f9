package org.rollstream.launcher;

/** A bad option value or configuration detected after parsing; the command exits 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
