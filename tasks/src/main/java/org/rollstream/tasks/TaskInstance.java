package org.rollstream.tasks;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One problem of a task. {@code fields} is the verification spec as plain strings (e.g. countdown
 * numbers and target) because it travels in an Avro {@code map<string>}: a scorer rebuilds the
 * instance from a record with {@link #fromFields} and verifies against it.
 *
 * @param id     identifier (generated tasks use a stable hash of the problem, see {@link TaskDataset})
 * @param task   task name as known to {@link TaskRegistry}
 * @param text   the prompt as the policy sees it
 * @param answer ground truth (for countdown: one known solution; any valid expression is accepted)
 * @param fields verification spec; copied, unmodifiable, sorted by key
 */
public record TaskInstance(String id, String task, String text, String answer, Map<String, String> fields) {

    public TaskInstance {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(answer, "answer");
        fields = fields == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(fields));
    }

    /** Rebuilds an instance from the strings carried by a {@code Prompt} record. */
    public static TaskInstance fromFields(String task, String id, String text, String answer, Map<String, String> fields) {
        return new TaskInstance(id, task, text, answer, fields);
    }

    /** A required field; a missing one is a broken record, not a wrong answer. */
    public String field(String name) {
        String v = fields.get(name);
        if (v == null) {
            throw new IllegalArgumentException("task instance " + id + " (" + task + ") lacks field '" + name + "'; has " + fields.keySet());
        }
        return v;
    }
}
