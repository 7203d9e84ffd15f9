package org.rollstream.launcher;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.rollstream.reward.service.ScorerConfig;
import org.rollstream.reward.service.ScorerService;
import org.rollstream.transport.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "scorer", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the reward scorer: consumes rollouts.sampled, applies the reward functions (built-ins and any RewardFunction on the class path) and group advantages, and publishes rollouts.scored.",
                "Invalid groups (and, when -G is given, groups of another size) go to rollouts.sampled.dlq.",
                "Runs until Ctrl-C (or SIGTERM), then drains the groups in hand, commits and leaves the group; a second Ctrl-C forces."})
final class ScorerCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Mixin
    RoleOptions roles;

    @Option(names = "--id", defaultValue = "scorer", description = "Scorer id (default: ${DEFAULT-VALUE}-<pid>).")
    String id;

    @Option(names = "--max-new-tokens", defaultValue = "48", description = "Actors' completion limit, for the overlong penalty (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        // every flag is checked before anything contacts the broker: a bad value exits 2 at once
        roles.validate();
        String scorerId = id + "-" + ProcessHandle.current().pid();
        boolean groupSizeGiven = spec.commandLine().getParseResult().hasMatchedOption("-G");
        ScorerConfig config = roles.scorerConfig(scorerId, maxNewTokens, groupSizeGiven);
        KafkaSettings settings = kafka.requiredSettings("scorer");
        settings.verifyReachable(Duration.ofSeconds(15));
        ScorerService scorer = ScorerService.start(settings, config);
        Operations.metrics().bindScorer(scorer.stats());
        Operations.metrics().bindConsumerLag(settings, config.consumerGroup(), Duration.ofSeconds(10));
        System.out.println("scorer " + scorerId + " started on " + settings.bootstrapServers() + " with rewards " + roles.rewards
                + (groupSizeGiven ? ", groups of G = " + roles.groupSize : ""));
        return RoleLoop.run("scorer " + scorerId, new RoleLoop.Role() {
            @Override
            public String status() {
                return scorer.stats().toString();
            }

            @Override
            public Optional<Throwable> failure() {
                return scorer.failure();
            }

            @Override
            public boolean stop(Duration timeout) {
                return scorer.stop(timeout);
            }
        }, System.out);
    }
}
