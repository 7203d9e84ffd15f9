package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The chaos bench and the broker's restart flags: bad values exit 2 with the flag named, before anything starts. */
class ChaosCommandsCliTest {

    private static CliOutcome run(String... args) {
        return CliOutcome.run(args);
    }

    @Test
    void chaosBenchIsListedAndHasHelp() {
        assertTrue(run("bench", "--help").out().contains("chaos"));
        CliOutcome help = run("bench", "chaos", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--kills"), help.out());
    }

    @Test
    void badChaosValuesExitTwo() {
        CliOutcome o = run("bench", "chaos", "--kills", "-1");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--kills"), o.err());
        assertEquals(2, run("bench", "chaos", "--steps", "-5").code());
        assertEquals(2, run("bench", "chaos", "--kills", "many").code());
    }

    @Test
    void brokerTakesAFixedPortAndLogDir() {
        CliOutcome help = run("broker", "--help");
        assertTrue(help.out().contains("--port") && help.out().contains("--log-dir"), help.out());
        CliOutcome o = run("broker", "--port", "70000");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--port"), o.err());
        assertEquals(2, run("broker", "--port", "-1").code());
    }
}
