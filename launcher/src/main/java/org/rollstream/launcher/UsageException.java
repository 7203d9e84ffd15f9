package org.rollstream.launcher;

import java.util.function.Supplier;

/** A bad option value or configuration detected after parsing; the command exits 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }

    /**
     * Builds a configuration from options: the config records reject bad values with
     * IllegalArgumentException, which here, and only here, is the user's input to fix.
     */
    static <T> T config(Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
