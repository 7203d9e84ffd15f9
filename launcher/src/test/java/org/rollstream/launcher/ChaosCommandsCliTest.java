package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The chaos bench and the broker's restart flags: bad values exit 2 with the flag named, before anything starts. */
class ChaosCommandsCliTest {
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
    void chaosBenchIsListedAndHasHelp() {
        assertTrue(run("bench", "--help").out().contains("chaos"));
        Outcome help = run("bench", "chaos", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--kills"), help.out());
    }

    @Test
    void badChaosValuesExitTwo() {
        Outcome o = run("bench", "chaos", "--kills", "-1");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--kills"), o.err());
        assertEquals(2, run("bench", "chaos", "--steps", "-5").code());
        assertEquals(2, run("bench", "chaos", "--kills", "many").code());
    }

    @Test
    void brokerTakesAFixedPortAndLogDir() {
        Outcome help = run("broker", "--help");
        assertTrue(help.out().contains("--port") && help.out().contains("--log-dir"), help.out());
        Outcome o = run("broker", "--port", "70000");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--port"), o.err());
        assertEquals(2, run("broker", "--port", "-1").code());
    }
}
