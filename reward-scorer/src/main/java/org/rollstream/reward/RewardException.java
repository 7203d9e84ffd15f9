package org.rollstream.reward;

/** A reward function failed on a record; the caller dead-letters the group instead of scoring it zero. */
public class RewardException extends RuntimeException {

    private final String function;

    public RewardException(String function, String message, Throwable cause) {
        super("reward '" + function + "' failed: " + message, cause);
        this.function = function;
    }

    /** Name of the reward function that failed. */
    public String function() {
        return function;
    }
}
