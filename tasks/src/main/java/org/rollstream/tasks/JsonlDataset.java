package org.rollstream.tasks;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads user problems, one JSON object a line:
 * {@code {"prompt": "...", "answer": "...", "task": "optional", "id": "optional", ...}}.
 * Every other member becomes a field (strings as they are, other scalars as their text, arrays and
 * objects as JSON). {@code task} defaults to {@code jsonl} and must be known to the registry.
 * Blank lines are skipped; any other bad line fails the whole read with {@code file:line}.
 */
public final class JsonlDataset {

    private static final Set<String> RESERVED = Set.of("prompt", "answer", "task", "id");

    private JsonlDataset() {
    }

    public static List<TaskInstance> read(Path file) {
        return read(file, TaskRegistry.defaults());
    }

    public static List<TaskInstance> read(Path file, TaskRegistry registry) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(r, file.toString(), registry);
        } catch (IOException e) {
            throw new DatasetException(file.toString(), 0, "cannot read: " + e.getMessage(), e);
        }
    }

    /** @param source the name used in error messages */
    public static List<TaskInstance> read(Reader reader, String source, TaskRegistry registry) {
        List<TaskInstance> out = new ArrayList<>();
        BufferedReader in = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
        int lineNo = 0;
        try {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lineNo++;
                if (lineNo == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (!line.isBlank()) {
                    out.add(parseLine(line, source, lineNo, registry));
                }
            }
        } catch (IOException e) {
            throw new DatasetException(source, lineNo, "cannot read: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new DatasetException(source, 0, "no problems: the file is empty");
        }
        return out;
    }

    private static TaskInstance parseLine(String line, String source, int lineNo, TaskRegistry registry) {
        JsonNode node = JsonLine.object(line, source, lineNo);
        String prompt = requiredText(node, "prompt", source, lineNo);
        String answer = requiredText(node, "answer", source, lineNo);
        String task = JsonlTask.NAME;
        if (node.hasNonNull("task")) {
            task = node.get("task").asText();
            if (registry.find(task).isEmpty()) {
                throw new DatasetException(source, lineNo, "unknown task '" + task + "'; known tasks: " + String.join(", ", registry.names()));
            }
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!RESERVED.contains(e.getKey()) && !e.getValue().isNull()) {
                fields.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString());
            }
        }
        String id = node.hasNonNull("id") ? node.get("id").asText() : StableHash.id(task, prompt);
        return new TaskInstance(id, task, prompt, answer, fields);
    }

    /** A string, or a number written as its text; anything else is an error. */
    private static String requiredText(JsonNode node, String name, String source, int lineNo) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            throw new DatasetException(source, lineNo, "missing \"" + name + "\"");
        }
        if (!v.isTextual() && !v.isNumber()) {
            throw new DatasetException(source, lineNo, "\"" + name + "\" must be a string or a number, got " + v.getNodeType());
        }
        String s = v.asText();
        if (s.isBlank()) {
            throw new DatasetException(source, lineNo, "\"" + name + "\" is empty");
        }
        return s;
    }
}
