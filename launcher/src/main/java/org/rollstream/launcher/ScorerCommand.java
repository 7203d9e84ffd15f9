package org.rollstream.launcher;

import java.time.Duration;
import java.util.concurrent.Callable;
import org.rollstream.reward.service.ScorerService;
import org.rollstream.transport.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "scorer", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the reward scorer: consumes rollouts.sampled, applies the reward functions (built-ins and any",
                "RewardFunction on the class path) and group advantages, publishes rollouts.scored. Runs until Ctrl-C."})
final class ScorerCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Mixin
    RoleOptions roles;

    @Option(names = "--id", defaultValue = "scorer", description = "Scorer id (default: ${DEFAULT-VALUE}-<pid>).")
    String id;

    @Option(names = "--max-new-tokens", defaultValue = "48", description = "Actors' completion limit, for the overlong penalty (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Override
    public Integer call() throws InterruptedException {
        KafkaSettings settings = kafka.requiredSettings("scorer");
        roles.validate();
        settings.verifyReachable(Duration.ofSeconds(15));
        String scorerId = id + "-" + ProcessHandle.current().pid();
        try (ScorerService scorer = ScorerService.start(settings, roles.scorerConfig(scorerId, maxNewTokens))) {
            System.out.println("scorer " + scorerId + " started on " + settings.bootstrapServers() + " with rewards " + roles.rewards);
            RoleLoop.untilInterrupted(() -> "scorer " + scorerId + ": " + scorer.stats());
        }
        return 0;
    }
}
