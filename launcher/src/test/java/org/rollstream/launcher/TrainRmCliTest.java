package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.tasks.preference.BuiltinPreferences;
import org.rollstream.tasks.preference.PreferenceJsonl;

class TrainRmCliTest {

    @TempDir
    Path dir;

    @Test
    void trainsFromAFileRanksHeldOutPairsAndExportsOnnxThatMatchesDjl() throws Exception {
        Path pairs = dir.resolve("prefs.jsonl");
        PreferenceJsonl.write(pairs, BuiltinPreferences.generate(2000, 11));
        Path out = dir.resolve("rm.onnx");
        CliOutcome r = CliOutcome.run("train-rm", "--pairs", pairs.toString(), "--out", out.toString(), "--steps", "200", "--seed", "11");
        System.out.println(r.out());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(out) > 10_000, "the model file holds its weights");
        Matcher acc = Pattern.compile("held-out ranking accuracy ([0-9.]+)%").matcher(r.out());
        assertTrue(acc.find(), r.out());
        assertTrue(Double.parseDouble(acc.group(1)) >= 90, "held-out ranking accuracy " + acc.group(1));
        Matcher diff = Pattern.compile("max \\|difference\\| over (\\d+) scores").matcher(r.out());
        assertTrue(diff.find() && Integer.parseInt(diff.group(1)) > 0, r.out());
        assertTrue(r.out().contains("reward model  step  200/200"), "progress is printed");
    }

    @Test
    void aMalformedLineIsNamedWithFileAndLineAndExitsTwo() throws Exception {
        Path pairs = dir.resolve("bad.jsonl");
        Files.write(pairs, List.of(
                "{\"prompt\":\"copy:lamp=\",\"chosen\":\"<think></think><answer>lamp</answer>\",\"rejected\":\"<think></think><answer>lamp kill</answer>\"}",
                "",
                "{\"prompt\":\"copy:lamp=\",\"chosen\":\"<think></think><answer>lamp</answer>\"}"));
        CliOutcome r = CliOutcome.run("train-rm", "--pairs", pairs.toString(), "--out", dir.resolve("rm.onnx").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(pairs + ":3: missing \"rejected\""), r.err());

        Files.write(pairs, List.of("{\"prompt\":\"copy:lamp=\",\"chosen\":\"x\",", "nothing"));
        r = CliOutcome.run("train-rm", "--pairs", pairs.toString(), "--out", dir.resolve("rm.onnx").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(pairs + ":1: malformed JSON"), r.err());

        Files.write(pairs, List.of("{\"prompt\":\"copy:lamp=\",\"chosen\":\"\",\"rejected\":\"y\"}"));
        r = CliOutcome.run("train-rm", "--pairs", pairs.toString(), "--out", dir.resolve("rm.onnx").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(pairs + ":1: \"chosen\" is empty"), r.err());
        assertTrue(Files.notExists(dir.resolve("rm.onnx")), "nothing is written for a bad file");
    }

    @Test
    void badFlagsExitTwo() {
        Path out = dir.resolve("rm.onnx");
        assertEquals(2, CliOutcome.run("train-rm", "--out", out.toString()).code(), "one of --pairs and --builtin is required");
        assertEquals(2, CliOutcome.run("train-rm", "--builtin", "10", "--pairs", "p.jsonl", "--out", out.toString()).code(), "not both");
        assertEquals(2, CliOutcome.run("train-rm", "--builtin", "100").code(), "--out is required");
        assertEquals(2, CliOutcome.run("train-rm", "--builtin", "100", "--out", out.toString(), "--steps", "0").code());
        assertEquals(2, CliOutcome.run("train-rm", "--builtin", "100", "--out", out.toString(), "--held-out", "1.5").code());
        assertEquals(2, CliOutcome.run("train-rm", "--builtin", "1", "--out", out.toString()).code());
        assertEquals(2, CliOutcome.run("train-rm", "--builtin", "100", "--out", dir.resolve("no/such/dir/rm.onnx").toString()).code());
        assertEquals(2, CliOutcome.run("train-rm", "--pairs", dir.resolve("missing.jsonl").toString(), "--out", out.toString()).code());
        assertTrue(Files.notExists(out));
    }
}
