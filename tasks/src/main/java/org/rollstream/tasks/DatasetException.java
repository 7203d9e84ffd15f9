package org.rollstream.tasks;

/** A dataset that cannot be used as given; the message starts with {@code source:line} when a line is at fault. */
public class DatasetException extends RuntimeException {

    private final String source;
    private final int line;

    public DatasetException(String source, int line, String message) {
        this(source, line, message, null);
    }

    public DatasetException(String source, int line, String message, Throwable cause) {
        super((line > 0 ? source + ":" + line : source) + ": " + message, cause);
        this.source = source;
        this.line = line;
    }

    public String source() {
        return source;
    }

    /** 1-based line number, or 0 when the whole source is at fault. */
    public int line() {
        return line;
    }
}
