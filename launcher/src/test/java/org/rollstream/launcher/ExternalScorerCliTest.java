package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands for external scorers: schema export, the score bridge's flags, external reward options. */
class ExternalScorerCliTest {
    private record Outcome(int code, String out, String err) {
    }

    private static Outcome run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Rollstream.execute(args);
            return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void schemasExportWritesSelfContainedFiles(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("out");
        Outcome o = run("schemas", "export", target.toString());
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("ScoredGroup.avsc"), o.out());
        Schema s = new Schema.Parser().parse(target.resolve("ScoredGroup.avsc").toFile());
        assertEquals("ScoredGroup", s.getName());
        assertTrue(Files.readString(target.resolve("wire-format.md")).contains("rewards.partial"));
        Outcome list = run("schemas", "list");
        assertEquals(0, list.code());
        assertTrue(list.out().contains("rollouts.scored") && list.out().contains("PartialReward"), list.out());
        assertEquals(2, run("schemas").code(), "a subcommand is required");
    }

    @Test
    void scoreBridgeFlagsAreCheckedBeforeAnythingStarts() {
        Outcome noComponent = run("score-bridge", "--bootstrap-servers", "127.0.0.1:1", "--", "python3", "x.py");
        assertEquals(2, noComponent.code());
        assertTrue(noComponent.err().contains("--component"), noComponent.err());
        assertEquals(2, run("score-bridge", "--bootstrap-servers", "127.0.0.1:1", "--component", "judge").code(), "a command is required");
        Outcome zero = run("score-bridge", "--bootstrap-servers", "127.0.0.1:1", "--component", "judge", "--max-in-flight", "0", "--", "true");
        assertEquals(2, zero.code());
        assertTrue(zero.err().contains("--max-in-flight"), zero.err());
    }

    @Test
    void aBadExternalRewardOptionIsAUsageError() {
        Outcome o = run("scorer", "--bootstrap-servers", "127.0.0.1:1", "--rewards", "accuracy=1,judge=1,judge.type=http");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("judge.url"), o.err());
        Outcome typo = run("scorer", "--bootstrap-servers", "127.0.0.1:1", "--rewards",
                "judge=1,judge.type=http,judge.url=http://127.0.0.1:9/score,judge.retrys=2");
        assertEquals(2, typo.code());
        assertTrue(typo.err().contains("retrys"), typo.err());
    }
}
