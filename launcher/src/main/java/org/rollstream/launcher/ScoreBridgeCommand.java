package org.rollstream.launcher;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.rollstream.reward.service.ScoreBridge;
import org.rollstream.transport.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "score-bridge", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs an external reward scorer in any language over the topic protocol, with no Kafka or Avro library.",
                "Each group of rollouts.sampled goes to the program's stdin as one JSON line; each JSON line it prints",
                "(group_id, rewards[, parts, error]) goes to rewards.partial as that group's component. Pair it with a",
                "scorer that waits for the component: --rewards '...,NAME=WEIGHT,NAME.type=topic'. Runs until Ctrl-C.",
                "Example: rollstream score-bridge --component judge -- python3 examples/topic_scorer.py"})
final class ScoreBridgeCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Option(names = "--component", required = true, description = "The component name the scorer waits for (its NAME.type=topic).")
    String component;

    @Option(names = "--group", description = "Kafka consumer group (default: rollstream-bridge-<component>); bridges of one group split the groups.")
    String group;

    @Option(names = "--max-in-flight", defaultValue = "64", description = "Groups sent to the program and not yet answered (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--answer-timeout", defaultValue = "60", description = "Seconds the program has to answer a group before it is sent again (default: ${DEFAULT-VALUE}).")
    int answerTimeoutSeconds;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The scorer program and its arguments (after --).")
    List<String> command;

    @Override
    public Integer call() throws Exception {
        if (component.isBlank()) {
            throw new UsageException("--component must not be blank");
        }
        if (maxInFlight < 1 || answerTimeoutSeconds < 1) {
            throw new UsageException("--max-in-flight and --answer-timeout must be at least 1");
        }
        KafkaSettings settings = kafka.requiredSettings("score-bridge");
        settings.verifyReachable(Duration.ofSeconds(15));
        String consumerGroup = group == null ? "rollstream-bridge-" + component : group;
        CountDownLatch stopped = new CountDownLatch(1);
        ScoreBridge bridge = ScoreBridge.start(settings, consumerGroup, component, command, maxInFlight, Duration.ofSeconds(answerTimeoutSeconds));
        Thread hook = new Thread(() -> {
            bridge.close();
            stopped.countDown();
        }, "rollstream-bridge-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("score-bridge for component '" + component + "' started on " + settings.bootstrapServers() + ": " + String.join(" ", command));
        while (!stopped.await(10, TimeUnit.SECONDS)) {
            System.out.println("score-bridge " + component + ": " + bridge.status());
            if (bridge.failure().isPresent()) {
                System.err.println("score-bridge " + component + " stopped: " + bridge.failure().get().getMessage());
                Runtime.getRuntime().removeShutdownHook(hook);
                bridge.close();
                return 1;
            }
        }
        return 0;
    }
}
