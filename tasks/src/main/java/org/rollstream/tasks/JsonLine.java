package org.rollstream.tasks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** One line of a JSONL input file, read as a JSON object; failures name the file and line. */
public final class JsonLine {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonLine() {
    }

    /** @throws DatasetException {@code source:lineNo: malformed JSON …} or when the line is not a JSON object */
    public static JsonNode object(String line, String source, int lineNo) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new DatasetException(source, lineNo, "malformed JSON: " + e.getOriginalMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new DatasetException(source, lineNo, "expected a JSON object, got " + (node == null ? "nothing" : node.getNodeType()));
        }
        return node;
    }
}
