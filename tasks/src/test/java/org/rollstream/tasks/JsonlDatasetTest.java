package org.rollstream.tasks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class JsonlDatasetTest {

    @TempDir
    Path dir;

    private static List<TaskInstance> read(String text) {
        return JsonlDataset.read(new StringReader(text), "data.jsonl", TaskRegistry.defaults());
    }

    private static DatasetException fails(String text) {
        return assertThrows(DatasetException.class, () -> read(text));
    }

    @Test
    void readsPromptsAnswersAndExtraFields() throws Exception {
        Path f = dir.resolve("d.jsonl");
        Files.writeString(f, """
                {"prompt": "What is 6*7?", "answer": "42", "source": "quiz", "level": 2, "tags": ["a"]}

                {"id": "c1", "prompt": "3,4,6->8:", "answer": "6/3*4", "task": "countdown", "numbers": "3,4,6", "target": 8}
                {"prompt": "Capital of France?", "answer": 7, "note": null}
                """);
        List<TaskInstance> xs = JsonlDataset.read(f);
        assertEquals(3, xs.size());
        TaskInstance a = xs.get(0);
        assertEquals("jsonl", a.task());
        assertEquals("What is 6*7?", a.text());
        assertEquals("42", a.answer());
        assertEquals(Map.of("source", "quiz", "level", "2", "tags", "[\"a\"]"), a.fields());
        assertTrue(a.id().startsWith("jsonl-"));
        TaskInstance c = xs.get(1);
        assertEquals("c1", c.id());
        assertTrue(new CountdownTask().isCorrect(c, "6/(3/4)"));
        assertEquals("7", xs.get(2).answer(), "a numeric answer becomes its text");
        assertEquals(Map.of(), xs.get(2).fields(), "null members are dropped");
        assertTrue(new JsonlTask().isCorrect(a, " 42.0 "));
    }

    @Test
    void badLinesNameFileAndLine() {
        DatasetException e = fails("{\"prompt\": \"a\", \"answer\": \"1\"}\n{\"prompt\": \"b\", \"answer\": \n");
        assertEquals(2, e.line());
        assertTrue(e.getMessage().startsWith("data.jsonl:2: malformed JSON"), e.getMessage());
        assertEquals("data.jsonl:1: missing \"prompt\"", fails("{\"answer\": \"1\"}").getMessage());
        assertEquals("data.jsonl:1: missing \"answer\"", fails("{\"prompt\": \"p\"}").getMessage());
        assertEquals("data.jsonl:1: \"answer\" is empty", fails("{\"prompt\": \"p\", \"answer\": \" \"}").getMessage());
        assertEquals("data.jsonl:1: expected a JSON object, got ARRAY", fails("[1,2]").getMessage());
        assertTrue(fails("{\"prompt\": {\"x\":1}, \"answer\": \"1\"}").getMessage().contains("must be a string or a number"));
        assertEquals("data.jsonl:1: unknown task 'algebra'; known tasks: arithmetic, countdown, logic, general, jsonl, addition",
                fails("{\"prompt\": \"p\", \"answer\": \"1\", \"task\": \"algebra\"}").getMessage());
    }

    @Test
    void anEmptyFileIsAnError() throws Exception {
        assertEquals("data.jsonl: no problems: the file is empty", fails("").getMessage());
        assertEquals(0, fails("\n  \n").line());
        Path missing = dir.resolve("nope.jsonl");
        assertTrue(assertThrows(DatasetException.class, () -> JsonlDataset.read(missing)).getMessage().contains("cannot read"));
    }

    @Test
    void registryNamesTheKnownTasks() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TaskRegistry.defaults().resolve("algebra"));
        assertEquals("unknown task 'algebra'; known tasks: arithmetic, countdown, logic, general, jsonl, addition", e.getMessage());
        assertEquals("countdown", TaskRegistry.defaults().resolve("countdown").name());
        assertThrows(UnsupportedOperationException.class, () -> TaskRegistry.defaults().resolve("jsonl").sample(new java.util.Random()));
    }
}
