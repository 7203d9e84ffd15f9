package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The top-level help lists each command with one complete sentence; unknown commands always exit 2. */
class HelpReadsWellTest {
    @Test
    void everyCommandSummaryIsOneCompleteSentence() {
        CommandLine root = new CommandLine(new Rollstream());
        for (Map.Entry<String, CommandLine> e : root.getSubcommands().entrySet()) {
            String[] description = e.getValue().getCommandSpec().usageMessage().description();
            if (e.getKey().equals("help")) {
                continue;
            }
            assertTrue(description.length > 0, e.getKey() + " has a description");
            String summary = description[0].strip();
            assertTrue(summary.endsWith("."), e.getKey() + ": summary cut mid-sentence: " + summary);
            assertTrue(Character.isUpperCase(summary.charAt(0)), e.getKey() + ": " + summary);
        }
        CliOutcome help = CliOutcome.run("--help");
        assertEquals(0, help.code());
        // the listing shows the sentence end, not a trailing comma or "of"
        String flat = help.out().replaceAll("\\s+", " "); // wrapping depends on the terminal width
        assertTrue(flat.contains("talking over Kafka."), help.out());
        assertTrue(flat.contains("hot-swaps policy versions."), help.out());
        assertTrue(!help.out().contains("cold-start SFT,\n"), help.out());
    }

    @Test
    void anUnknownCommandFollowedByHelpExitsTwoNamingIt() {
        CliOutcome o = CliOutcome.run("frobnicate", "--help");
        assertEquals(2, o.code(), o.out() + o.err());
        assertTrue(o.err().contains("frobnicate"), o.err());
        CliOutcome plain = CliOutcome.run("frobnicate");
        assertEquals(2, plain.code());
        assertTrue(plain.err().contains("frobnicate"), plain.err());
        CliOutcome nested = CliOutcome.run("bench", "frobnicate", "--help");
        assertEquals(2, nested.code(), nested.out() + nested.err());
        assertTrue(nested.err().contains("frobnicate"), nested.err());
    }
}
