package org.rollstream.reward;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Which tasks a configured reward applies to, from its {@code tasks} option: {@code general} or
 * {@code arithmetic|countdown} (only those), {@code !general} (all but those). A reward that does
 * not apply to a completion's task is left out of that completion's components and total, so one
 * configuration can score general prompts with a reward model and reasoning prompts with rules.
 */
record TaskFilter(Set<String> tasks, boolean exclude) {
    static final String OPTION = "tasks";

    /** @throws IllegalArgumentException for an empty list */
    static TaskFilter parse(String reward, String text) {
        String s = text.strip();
        boolean exclude = s.startsWith("!");
        Set<String> tasks = new LinkedHashSet<>();
        for (String t : (exclude ? s.substring(1) : s).split("\\|")) {
            if (!t.isBlank()) {
                tasks.add(t.strip());
            }
        }
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("reward '" + reward + "' option tasks names no task (write e.g. general, arithmetic|logic or !general)");
        }
        return new TaskFilter(Set.copyOf(tasks), exclude);
    }

    boolean applies(String task) {
        return tasks.contains(task) != exclude;
    }
}
