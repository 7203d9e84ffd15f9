package org.rollstream.tasks;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Tasks by name. Immutable: {@link #with} returns a new registry. */
public final class TaskRegistry {

    private static final TaskRegistry DEFAULTS = new TaskRegistry(Map.of())
            .with(new ArithmeticTask()).with(new CountdownTask()).with(new LogicTask()).with(new GeneralTask())
            .with(new JsonlTask()).with(ArithmeticTask.addition());

    private final Map<String, Task> tasks;

    private TaskRegistry(Map<String, Task> tasks) {
        this.tasks = tasks;
    }

    /**
     * {@code arithmetic}, {@code countdown}, {@code logic}, {@code general} and {@code jsonl}, with default settings,
     * and {@code addition} (arithmetic's two-digit addition alone, {@link ArithmeticTask#addition()}).
     */
    public static TaskRegistry defaults() {
        return DEFAULTS;
    }

    /** This registry plus {@code task}, replacing one of the same name (e.g. arithmetic with other digit counts). */
    public TaskRegistry with(Task task) {
        Map<String, Task> m = new LinkedHashMap<>(tasks);
        m.put(task.name(), task);
        return new TaskRegistry(java.util.Collections.unmodifiableMap(m));
    }

    /** @throws IllegalArgumentException naming the known tasks when {@code name} is not one of them */
    public Task resolve(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException(
                "unknown task '" + name + "'; known tasks: " + String.join(", ", tasks.keySet())));
    }

    public Optional<Task> find(String name) {
        return Optional.ofNullable(name == null ? null : tasks.get(name));
    }

    public Set<String> names() {
        return tasks.keySet();
    }
}
