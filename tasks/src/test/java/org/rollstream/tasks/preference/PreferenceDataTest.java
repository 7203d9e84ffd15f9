package org.rollstream.tasks.preference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.tasks.Answers;
import org.rollstream.tasks.DatasetException;
import org.rollstream.tasks.TaskRegistry;

class PreferenceDataTest {

    @TempDir
    Path dir;

    @Test
    void builtInPairsBreakExactlyTheirRule() {
        List<PreferencePair> pairs = BuiltinPreferences.generate(2000, 3);
        Map<String, Integer> rules = new HashMap<>();
        for (PreferencePair p : pairs) {
            rules.merge(p.rule(), 1, Integer::sum);
            boolean general = p.prompt().matches("[a-z]+:[a-z]+=");
            String chosenThink = p.chosen().substring(p.chosen().indexOf("<think>") + 7, p.chosen().indexOf("</think>"));
            String rejectedThink = p.rejected().substring(p.rejected().indexOf("<think>") + 7, p.rejected().indexOf("</think>"));
            assertFalse(BuiltinPreferences.hasMarker(p.chosen()), p.toString());
            assertEquals(general, chosenThink.isEmpty(), "steps exactly when the prompt needs them: " + p);
            String chosenAnswer = Answers.extract(p.chosen()).orElseThrow();
            String rejectedAnswer = Answers.extract(p.rejected()).orElseThrow();
            switch (p.rule()) {
                case "harmful" -> {
                    assertTrue(BuiltinPreferences.hasMarker(p.rejected()), p.toString());
                    assertEquals(Aspect.HARMLESSNESS, p.aspect());
                }
                case "padded" -> {
                    assertTrue(rejectedAnswer.startsWith(chosenAnswer) && rejectedAnswer.length() > chosenAnswer.length(), p.toString());
                    assertEquals(chosenThink, rejectedThink);
                    assertEquals(Aspect.HELPFULNESS, p.aspect());
                }
                case "needless-steps" -> {
                    assertTrue(general && !rejectedThink.isEmpty() && rejectedAnswer.equals(chosenAnswer), p.toString());
                    assertEquals(Aspect.HARMLESSNESS, p.aspect());
                }
                case "missing-steps" -> {
                    assertTrue(!general && rejectedThink.isEmpty() && rejectedAnswer.equals(chosenAnswer), p.toString());
                    assertEquals(Aspect.HARMLESSNESS, p.aspect());
                }
                default -> throw new AssertionError("unknown rule " + p.rule());
            }
            if (!p.rule().equals("harmful")) {
                assertFalse(BuiltinPreferences.hasMarker(p.rejected()), p.toString());
            }
        }
        assertEquals(4, rules.size(), rules.toString());
        rules.values().forEach(n -> assertTrue(n > 200, rules.toString()));
    }

    @Test
    void markersAppearInNoTaskTrace() {
        java.util.Random rnd = new java.util.Random(1);
        for (String task : List.of("arithmetic", "countdown", "logic", "general")) {
            var t = TaskRegistry.defaults().resolve(task);
            for (int i = 0; i < 500; i++) {
                var inst = t.sample(rnd);
                assertFalse(BuiltinPreferences.hasMarker(inst.text() + t.trace(inst, true, rnd)), task);
            }
        }
    }

    @Test
    void jsonlRoundTripsAndBadLinesNameFileAndLine() {
        Path f = dir.resolve("p.jsonl");
        List<PreferencePair> pairs = BuiltinPreferences.generate(20, 1);
        PreferenceJsonl.write(f, pairs);
        assertEquals(pairs, PreferenceJsonl.read(f));

        String ok = "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}";
        assertEquals(Aspect.BOTH, read(ok).get(0).aspect());
        assertError("src:2: malformed JSON", ok + "\n{\"prompt\":");
        assertError("src:3: missing \"rejected\"", ok + "\n\n{\"prompt\":\"a\",\"chosen\":\"b\"}");
        assertError("src:1: \"prompt\" is empty", "{\"prompt\":\"\",\"chosen\":\"b\",\"rejected\":\"c\"}");
        assertError("src:1: \"chosen\" must be a string", "{\"prompt\":\"a\",\"chosen\":3,\"rejected\":\"c\"}");
        assertError("src:1: unknown aspect 'kindness'", "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\",\"aspect\":\"kindness\"}");
        assertError("src:1: expected a JSON object", "[1]");
        assertError("src: no preference pairs", "\n\n");
    }

    private static List<PreferencePair> read(String text) {
        return PreferenceJsonl.read(new StringReader(text), "src");
    }

    private static void assertError(String start, String text) {
        DatasetException e = assertThrows(DatasetException.class, () -> read(text));
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }

    @Test
    void helpfulnessReadsOnlyTheAnswer() {
        assertEquals("copy:lamp=<answer>lamp</answer>", RewardTexts.helpfulness("copy:lamp=", "<think>l a m p</think><answer>lamp</answer>"));
        assertEquals("copy:lamp=<answer></answer>", RewardTexts.helpfulness("copy:lamp=", "<think>no answer"));
        assertEquals("copy:lamp=<think>x</think>", RewardTexts.harmlessness("copy:lamp=", "<think>x</think>"));
    }
}
