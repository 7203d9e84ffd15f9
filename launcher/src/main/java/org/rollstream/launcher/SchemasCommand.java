package org.rollstream.launcher;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.apache.avro.Schema;
import org.rollstream.schemas.WireSchemas;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "schemas", mixinStandardHelpOptions = true,
        description = "The wire schemas, for clients outside the JVM.",
        subcommands = {SchemasCommand.Export.class, SchemasCommand.ListSchemas.class})
final class SchemasCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand: export DIR or list");
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Writes one self-contained .avsc per record that travels on a topic (nested types inline, so a stock",
                    "Avro parser needs nothing else) and wire-format.md (framing, fingerprints, which topic carries what)."})
    static final class Export implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "Directory to write to (created when missing).")
        Path dir;

        @Override
        public Integer call() throws IOException {
            for (Path p : WireSchemas.export(dir)) {
                System.out.println(p);
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints topic, record and fingerprint bytes.")
    static final class ListSchemas implements Callable<Integer> {
        @Override
        public Integer call() {
            WireSchemas.byTopic().forEach((String topic, Schema s) -> System.out.printf("%-18s %-14s %s%n", topic, s.getName(), WireSchemas.fingerprintBytes(s)));
            return 0;
        }
    }
}
