package org.rollstream.actor;

import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Tokenizer;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.errors.BadRecordException;

/**
 * Decides whether a decoded prompt can be sampled at all and turns it into model input. A refused
 * prompt is never the actor's fault nor retriable: it goes to {@code prompts.dlq} with the reason.
 */
final class PromptCheck {
    private final TaskRegistry tasks;
    private final Tokenizer tokenizer;

    PromptCheck(TaskRegistry tasks, Tokenizer tokenizer) {
        this.tasks = tasks;
        this.tokenizer = tokenizer;
    }

    /** Checks what does not depend on the weights: id, policy, text, task. */
    void checkFields(Prompt p) {
        if (p.getId() == null || p.getId().toString().isBlank()) {
            throw new BadRecordException("prompt has an empty id");
        }
        if (p.getPolicy() == null || p.getPolicy().toString().isBlank()) {
            throw new BadRecordException("prompt " + p.getId() + " names no policy");
        }
        if (p.getText() == null || p.getText().toString().isEmpty()) {
            throw new BadRecordException("prompt " + p.getId() + " has an empty text");
        }
        String task = p.getTask() == null ? "" : p.getTask().toString();
        if (tasks.find(task).isEmpty()) {
            throw new BadRecordException("prompt " + p.getId() + ": unknown task '" + task + "' (known: "
                    + String.join(", ", tasks.names()) + ")");
        }
    }

    /**
     * The prompt as model input ({@code <bos>} + text).
     *
     * @throws BadRecordException when the text cannot be tokenized, yields ids outside the
     *                            vocabulary, or leaves no room to generate in {@code contextLength}
     */
    int[] tokens(Prompt p, int contextLength) {
        int[] tokens;
        try {
            tokens = PromptTokens.encode(tokenizer, p.getText().toString());
        } catch (RuntimeException e) {
            throw new BadRecordException("prompt " + p.getId() + " cannot be tokenized: " + e.getMessage(), e);
        }
        for (int t : tokens) {
            if (t < 0 || t >= tokenizer.vocabSize()) {
                throw new BadRecordException("prompt " + p.getId() + " tokenizes to id " + t + ", outside the vocabulary of "
                        + tokenizer.vocabSize());
            }
        }
        if (tokens.length >= contextLength) {
            throw new BadRecordException("prompt " + p.getId() + " has " + tokens.length
                    + " tokens, which leaves no room in the context of " + contextLength);
        }
        return tokens;
    }
}
