package org.rollstream.actor;

import java.util.Optional;

import org.rollstream.schemas.records.Prompt;
import org.rollstream.tasks.TaskRegistry;

/** Decides whether a prompt can be sampled at all; a refused prompt goes to the DLQ with the reason. */
final class PromptCheck {
    private final TaskRegistry tasks;

    PromptCheck(TaskRegistry tasks) {
        this.tasks = tasks;
    }

    /** Why the prompt cannot be sampled, or empty when it can. */
    Optional<String> problem(Prompt p) {
        if (p.getId() == null || p.getId().toString().isBlank()) {
            return Optional.of("prompt has an empty id");
        }
        if (p.getText() == null || p.getText().toString().isEmpty()) {
            return Optional.of("prompt " + p.getId() + " has an empty text");
        }
        String task = p.getTask() == null ? "" : p.getTask().toString();
        if (tasks.find(task).isEmpty()) {
            return Optional.of("unknown task '" + task + "' (known: " + String.join(", ", tasks.names()) + ")");
        }
        return Optional.empty();
    }
}
