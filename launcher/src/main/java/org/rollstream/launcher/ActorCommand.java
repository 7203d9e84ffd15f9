package org.rollstream.launcher;

import java.time.Duration;
import java.util.concurrent.Callable;
import org.rollstream.actor.ActorService;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.transport.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "actor", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs a rollout actor: consumes prompts as a member of a consumer group, samples groups of",
                "completions with ONNX Runtime, publishes rollouts.sampled and hot-swaps policy versions. Runs until Ctrl-C."})
final class ActorCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Mixin
    RoleOptions roles;

    @Option(names = "--id", defaultValue = "actor", description = "Actor id, unique per process (default: ${DEFAULT-VALUE}-<pid>).")
    String id;

    @Option(names = "--policy-name", defaultValue = "default", description = "Policy to follow on policy.versions (default: ${DEFAULT-VALUE}).")
    String policyName;

    @Option(names = "--max-new-tokens", defaultValue = "48", description = "Completion length limit (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--seed", defaultValue = "7", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws InterruptedException {
        KafkaSettings settings = kafka.requiredSettings("actor");
        roles.validate();
        settings.verifyReachable(Duration.ofSeconds(15));
        String actorId = id + "-" + ProcessHandle.current().pid();
        try (ActorService actor = ActorService.start(settings,
                roles.actorConfig(actorId, policyName, maxNewTokens, seed), CharTokenizer.builtin())) {
            System.out.println("actor " + actorId + " started; waiting for policy '" + policyName + "' on " + settings.bootstrapServers());
            RoleLoop.untilInterrupted(() -> "actor " + actorId + ": " + actor.stats());
        }
        return 0;
    }
}
