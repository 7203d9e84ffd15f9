package org.rollstream.tasks;

/** One supervised pair for cold-start SFT; {@code perfect} is false for a deliberately flawed trace. */
public record SftExample(String id, String task, String prompt, String completion, boolean perfect) {
}
