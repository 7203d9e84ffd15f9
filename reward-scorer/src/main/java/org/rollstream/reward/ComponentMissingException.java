package org.rollstream.reward;

/**
 * An awaited reward component did not arrive by its deadline and was configured to be left out
 * ({@code missing=skip}): the group is scored with the other components, and the scores say which
 * one is absent (it has no entry).
 */
public class ComponentMissingException extends RuntimeException {
    private final String function;

    public ComponentMissingException(String function, String message) {
        super("reward '" + function + "' missing: " + message);
        this.function = function;
    }

    public String function() {
        return function;
    }
}
