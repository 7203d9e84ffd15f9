package org.rollstream.tasks.preference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.rollstream.tasks.DatasetException;
import org.rollstream.tasks.JsonLine;

/**
 * Preference pairs as JSONL, one object a line: {@code {"prompt": "...", "chosen": "...",
 * "rejected": "..."}}, optionally {@code "aspect"} ({@code helpfulness}, {@code harmlessness} or
 * {@code both}, the default) and {@code "rule"} (a label, kept for reports). Blank lines are
 * skipped; any other bad line (malformed JSON, a missing, non-string or empty field, an unknown
 * aspect) fails the read with a {@link DatasetException} whose message starts with {@code file:line}.
 */
public final class PreferenceJsonl {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PreferenceJsonl() {
    }

    /** @throws DatasetException naming {@code file:line} for a bad line, or the file when it is unreadable or empty */
    public static List<PreferencePair> read(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(r, file.toString());
        } catch (IOException e) {
            throw new DatasetException(file.toString(), 0, "cannot read: " + e.getMessage(), e);
        }
    }

    /** @param source the name used in error messages */
    public static List<PreferencePair> read(Reader reader, String source) {
        List<PreferencePair> out = new ArrayList<>();
        BufferedReader in = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
        int lineNo = 0;
        try {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lineNo++;
                if (lineNo == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (!line.isBlank()) {
                    out.add(parse(line, source, lineNo));
                }
            }
        } catch (IOException e) {
            throw new DatasetException(source, lineNo, "cannot read: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new DatasetException(source, 0, "no preference pairs: the file is empty");
        }
        return out;
    }

    private static PreferencePair parse(String line, String source, int lineNo) {
        JsonNode node = JsonLine.object(line, source, lineNo);
        String prompt = text(node, "prompt", source, lineNo);
        String chosen = text(node, "chosen", source, lineNo);
        String rejected = text(node, "rejected", source, lineNo);
        Aspect aspect = Aspect.BOTH;
        if (node.hasNonNull("aspect")) {
            try {
                aspect = Aspect.parse(node.get("aspect").asText());
            } catch (IllegalArgumentException e) {
                throw new DatasetException(source, lineNo, e.getMessage());
            }
        }
        String rule = node.hasNonNull("rule") ? node.get("rule").asText() : "";
        return new PreferencePair(prompt, chosen, rejected, aspect, rule);
    }

    private static String text(JsonNode node, String name, String source, int lineNo) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            throw new DatasetException(source, lineNo, "missing \"" + name + "\"");
        }
        if (!v.isTextual()) {
            throw new DatasetException(source, lineNo, "\"" + name + "\" must be a string, got " + v.getNodeType());
        }
        if (v.asText().isEmpty()) {
            throw new DatasetException(source, lineNo, "\"" + name + "\" is empty");
        }
        return v.asText();
    }

    /** Writes {@code pairs} in the format {@link #read} reads (aspect and rule included). */
    public static void write(Path file, List<PreferencePair> pairs) {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (PreferencePair p : pairs) {
                ObjectNode o = JSON.createObjectNode();
                o.put("prompt", p.prompt());
                o.put("chosen", p.chosen());
                o.put("rejected", p.rejected());
                o.put("aspect", p.aspect().label());
                if (!p.rule().isEmpty()) {
                    o.put("rule", p.rule());
                }
                w.write(JSON.writeValueAsString(o));
                w.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
