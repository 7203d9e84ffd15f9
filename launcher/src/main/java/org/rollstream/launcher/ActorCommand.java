package org.rollstream.launcher;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.rollstream.actor.ActorConfig;
import org.rollstream.actor.ActorService;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.transport.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "actor", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs a rollout actor: consumes prompts as a member of a consumer group, samples groups of completions with ONNX Runtime, publishes rollouts.sampled and hot-swaps policy versions.",
                "Runs until Ctrl-C (or SIGTERM), then drains the batches in hand, commits and leaves the group; a second Ctrl-C forces."})
final class ActorCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Mixin
    RoleOptions roles;

    @Mixin
    SigningOptions signing;

    @Option(names = "--id", defaultValue = "actor", description = "Actor id, unique per process (default: ${DEFAULT-VALUE}-<pid>).")
    String id;

    @Option(names = "--policy-name", defaultValue = "default", description = "Policy to follow on policy.versions (default: ${DEFAULT-VALUE}).")
    String policyName;

    @Option(names = "--group", defaultValue = ActorConfig.DEFAULT_GROUP,
            description = "Consumer group; actors of one group share the prompts (default: ${DEFAULT-VALUE}).")
    String group;

    @Option(names = "--max-new-tokens", defaultValue = "48", description = "Completion length limit (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--seed", defaultValue = "7", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws InterruptedException {
        // every flag is checked before anything contacts the broker: a bad value exits 2 at once
        roles.validate();
        String actorId = id + "-" + ProcessHandle.current().pid();
        ActorConfig config = roles.actorConfig(actorId, policyName, maxNewTokens, seed).withConsumerGroup(group);
        var weights = signing.actorSettings();
        KafkaSettings settings = kafka.requiredSettings("actor");
        settings.verifyReachable(Duration.ofSeconds(15));
        ActorService actor = ActorService.start(settings, config, CharTokenizer.builtin(), weights);
        Operations.metrics().bindActor(actor.stats());
        Operations.metrics().bindConsumerLag(settings, group, Duration.ofSeconds(10));
        System.out.println("actor " + actorId + " started; waiting for policy '" + policyName + "' on " + settings.bootstrapServers());
        return RoleLoop.run("actor " + actorId, new RoleLoop.Role() {
            @Override
            public String status() {
                return actor.stats().toString();
            }

            @Override
            public Optional<Throwable> failure() {
                return actor.failure();
            }

            @Override
            public boolean stop(Duration timeout) {
                return actor.stop(timeout);
            }
        }, System.out);
    }
}
