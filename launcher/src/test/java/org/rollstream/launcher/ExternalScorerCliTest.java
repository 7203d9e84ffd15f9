package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands for external scorers: schema export, the score bridge's flags, external reward options. */
class ExternalScorerCliTest {

    private static CliOutcome run(String... args) {
        return CliOutcome.run(args);
    }

    @Test
    void schemasExportWritesSelfContainedFiles(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("out");
        CliOutcome o = run("schemas", "export", target.toString());
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("ScoredGroup.avsc"), o.out());
        Schema s = new Schema.Parser().parse(target.resolve("ScoredGroup.avsc").toFile());
        assertEquals("ScoredGroup", s.getName());
        assertTrue(Files.readString(target.resolve("wire-format.md")).contains("rewards.partial"));
        CliOutcome list = run("schemas", "list");
        assertEquals(0, list.code());
        assertTrue(list.out().contains("rollouts.scored") && list.out().contains("PartialReward"), list.out());
        assertEquals(2, run("schemas").code(), "a subcommand is required");
    }

    @Test
    void scoreBridgeFlagsAreCheckedBeforeAnythingStarts() {
        CliOutcome noComponent = run("score-bridge", "--bootstrap-servers", "127.0.0.1:1", "--", "python3", "x.py");
        assertEquals(2, noComponent.code());
        assertTrue(noComponent.err().contains("--component"), noComponent.err());
        assertEquals(2, run("score-bridge", "--bootstrap-servers", "127.0.0.1:1", "--component", "judge").code(), "a command is required");
        CliOutcome zero = run("score-bridge", "--bootstrap-servers", "127.0.0.1:1", "--component", "judge", "--max-in-flight", "0", "--", "true");
        assertEquals(2, zero.code());
        assertTrue(zero.err().contains("--max-in-flight"), zero.err());
    }

    @Test
    void aBadExternalRewardOptionIsAUsageError() {
        CliOutcome o = run("scorer", "--bootstrap-servers", "127.0.0.1:1", "--rewards", "accuracy=1,judge=1,judge.type=http");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("judge.url"), o.err());
        CliOutcome typo = run("scorer", "--bootstrap-servers", "127.0.0.1:1", "--rewards",
                "judge=1,judge.type=http,judge.url=http://127.0.0.1:9/score,judge.retrys=2");
        assertEquals(2, typo.code());
        assertTrue(typo.err().contains("retrys"), typo.err());
    }
}
