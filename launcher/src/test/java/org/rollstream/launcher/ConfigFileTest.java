package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --config FILE: keys are option names, flags override, env vars fill secrets, mistakes name the key and exit 2. */
class ConfigFileTest {
    @TempDir
    Path dir;

    @AfterEach
    void restoreEnvironment() {
        Rollstream.env = System::getenv;
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void yamlSettingsApplyAndFlagsOverrideThem() throws Exception {
        Path f = write("actor.yaml", """
                bootstrap-servers: kafka-1:9092,kafka-2:9092
                group-size: 4
                temperature: 0.7
                steps: 100            # a learner key: skipped by the actor, so one file serves every role
                actor:
                  top-k: 5
                  kafka-property:
                    client.rack: r1
                learner:
                  eval-every: 10
                """);
        CliOutcome o = CliOutcome.run("actor", "--config", f.toString(), "--temperature", "0.9", "--print-config");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("group-size: 4  # file"), o.out());
        assertTrue(o.out().contains("temperature: 0.9  # flag"), o.out());
        assertTrue(o.out().contains("top-k: 5  # file"), o.out());
        assertTrue(o.out().contains("client.rack: r1"), o.out());
        assertTrue(o.out().contains("top-p: 1.0  # default"), o.out());
        assertTrue(o.out().contains("bootstrap-servers: kafka-1:9092,kafka-2:9092  # file"), o.out());
        assertFalse(o.out().contains("eval-every"), "another command's section stays there: " + o.out());

        CliOutcome learner = CliOutcome.run("learner", "--config", f.toString(), "--print-config");
        assertEquals(0, learner.code(), learner.err());
        assertTrue(learner.out().contains("steps: 100  # file"), learner.out());
        assertTrue(learner.out().contains("eval-every: 10  # file"), learner.out());
    }

    @Test
    void propertiesFilesWorkToo() throws Exception {
        Path f = write("scorer.properties", "bootstrap-servers=127.0.0.1:9092\nscorer.rewards=accuracy=1,format=0.5\n");
        CliOutcome o = CliOutcome.run("scorer", "--config=" + f, "--print-config");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("rewards: accuracy=1,format=0.5  # file"), o.out());
    }

    @Test
    void anUnknownKeyIsNamedAndExitsTwo() throws Exception {
        Path f = write("bad.yaml", "bootstrap-servers: x:1\ngroup-sise: 4\n");
        CliOutcome o = CliOutcome.run("actor", "--config", f.toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("unknown key 'group-sise'"), o.err());

        Path section = write("section.yaml", "scorer:\n  temprature: 2\n");
        CliOutcome s = CliOutcome.run("actor", "--config", section.toString());
        assertEquals(2, s.code());
        assertTrue(s.err().contains("unknown key 'scorer.temprature'"), s.err());
    }

    @Test
    void aBadValueIsNamedByItsKeyAndExitsTwo() throws Exception {
        Path f = write("bad.yaml", "steps: many\n");
        CliOutcome o = CliOutcome.run("learner", "--config", f.toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("key 'steps'") && o.err().contains("many"), o.err());

        Path range = write("range.yaml", "bootstrap-servers: 127.0.0.1:1\ntemperature: 0\n");
        CliOutcome r = CliOutcome.run("actor", "--config", range.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("temperature must be a positive number"), r.err());

        CliOutcome missing = CliOutcome.run("actor", "--config", dir.resolve("nope.yaml").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("nope.yaml is not a readable file"), missing.err());

        Path notYaml = write("broken.yaml", "group-size: [4\n");
        assertEquals(2, CliOutcome.run("actor", "--config", notYaml.toString()).code());
    }

    @Test
    void secretsComeFromTheEnvironmentAndArePrintedMasked() throws Exception {
        Map<String, String> env = Map.of("KAFKA_PASSWORD", "s3cr3t-from-env",
                KafkaOptions.SASL_USERNAME_ENV, "alice", KafkaOptions.SASL_PASSWORD_ENV, "pw-from-env");
        Rollstream.env = env::get;
        Path f = write("secure.yaml", """
                bootstrap-servers: broker:9093
                kafka-property:
                  security.protocol: SASL_SSL
                  sasl.mechanism: SCRAM-SHA-512
                  ssl.truststore.password: ${KAFKA_PASSWORD}
                """);
        CliOutcome o = CliOutcome.run("scorer", "--config", f.toString(), "--print-config");
        assertEquals(0, o.code(), o.err());
        assertFalse(o.out().contains("s3cr3t-from-env"), o.out());
        assertFalse(o.out().contains("pw-from-env"), o.out());
        assertTrue(o.out().contains("ssl.truststore.password: ******"), o.out());
        assertTrue(o.out().contains("sasl.jaas.config = ******"), "the env credentials became a login: " + o.out());
        assertTrue(o.out().contains("security.protocol = SASL_SSL"), o.out());

        Function<String, String> noVar = k -> null;
        Rollstream.env = noVar;
        CliOutcome unset = CliOutcome.run("scorer", "--config", f.toString(), "--print-config");
        assertEquals(2, unset.code());
        assertTrue(unset.err().contains("KAFKA_PASSWORD") && unset.err().contains("ssl.truststore.password"), unset.err());
    }

    @Test
    void theConfigOptionItselfCannotComeFromAFile() throws Exception {
        Path f = write("loop.yaml", "config: other.yaml\n");
        CliOutcome o = CliOutcome.run("actor", "--config", f.toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("'config' can only be given on the command line"), o.err());
    }
}
