package org.rollstream.launcher;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.rollstream.reward.CompositeReward;
import org.rollstream.reward.FinishReason;
import org.rollstream.reward.GroupAdvantages;
import org.rollstream.reward.GroupScorer;
import org.rollstream.reward.RewardConfig;
import org.rollstream.reward.RewardException;
import org.rollstream.reward.RewardInput;
import org.rollstream.reward.RewardScore;
import org.rollstream.reward.ScorerInfo;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.ScorerIdentity;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.schemas.serde.RecordDecodeException;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.TopicAdmin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rescore", mixinStandardHelpOptions = true,
        description = {"Scores a range of rollouts.sampled (or the groups of rollouts.scored) again with another reward "
                + "configuration, writes the new scores to a topic or a JSONL file, and reports how rewards and "
                + "advantages differ from the recorded ones (rollouts.scored): mean and |diff|, rank changes, advantage "
                + "sign flips. Reads without a consumer group; never writes to the run's own topics."})
final class RescoreCommand implements Callable<Integer> {
    private static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    private static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);

    @Mixin
    KafkaOptions kafka;

    @Mixin
    TopicRange range;

    @Option(names = "--from", defaultValue = Topics.ROLLOUTS_SAMPLED, paramLabel = "TOPIC",
            description = "rollouts.sampled (joined with rollouts.scored for the recorded scores) or rollouts.scored (default: ${DEFAULT-VALUE}).")
    String from;

    @Option(names = "--rewards", required = true, paramLabel = "NAME=W,...", description = "The reward configuration to score with, as the scorer takes it.")
    String rewards;

    @Option(names = "--advantage", defaultValue = "grpo", description = "grpo or dr-grpo (default: ${DEFAULT-VALUE}).")
    String advantage;

    @Option(names = "--max-new-tokens", defaultValue = "48", description = "The actors' completion limit, for the overlong penalty (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--target-language", defaultValue = "", description = "Target language for the language reward.")
    String targetLanguage;

    @Option(names = "--to", paramLabel = "FILE.jsonl", description = "Write one line per group (recorded and new rewards and advantages).")
    Path toFile;

    @Option(names = "--to-topic", paramLabel = "TOPIC", description = "Publish the rescored groups (ScoredGroup, keyed by prompt id) to this new topic.")
    String toTopic;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "Read the run's own Kafka log (<run>/kafka) instead of --bootstrap-servers.")
    Path runDir;

    @Override
    public Integer call() {
        if (!from.equals(Topics.ROLLOUTS_SAMPLED) && !from.equals(Topics.ROLLOUTS_SCORED)) {
            throw new UsageException("--from must be rollouts.sampled or rollouts.scored, got " + from);
        }
        if (toTopic != null && (Topics.all(1).stream().anyMatch(t -> t.name().equals(toTopic)) || toTopic.endsWith(".dlq"))) {
            throw new UsageException("--to-topic " + toTopic + " is one of the run's own topics: name a new one");
        }
        if (toFile != null && toFile.toAbsolutePath().getParent() != null
                && !Files.isDirectory(toFile.toAbsolutePath().getParent())) {
            throw new UsageException("cannot write " + toFile + ": its directory does not exist");
        }
        if (maxNewTokens < 1) {
            throw new UsageException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        }
        GroupScorer scorer = UsageException.config(() -> new GroupScorer(new CompositeReward(RewardConfig.parse(rewards)),
                new GroupAdvantages(GroupAdvantages.parseMode(advantage), GroupAdvantages.DEFAULT_EPS)));
        range.validate();
        ScorerInfo info = scorer.info();
        ScorerIdentity identity = ScorerIdentity.newBuilder().setName(info.name()).setVersion(info.version())
                .setConfig(info.config() + ";maxNewTokens=" + maxNewTokens + ";rescore").build();
        try (KafkaOptions.Cluster cluster = RunLog.open(kafka, runDir, "rescore")) {
            KafkaSettings settings = cluster.settings();
            List<SampledGroup> groups = new ArrayList<>();
            Map<String, ScoredGroup> recorded = new HashMap<>();
            long[] undecodable = {0};
            range.read(settings, from, r -> {
                try {
                    if (from.equals(Topics.ROLLOUTS_SCORED)) {
                        ScoredGroup sg = SCORED.decode(r.value());
                        recorded.putIfAbsent(sg.getGroup().getGroupId().toString(), sg);
                        groups.add(sg.getGroup());
                    } else {
                        groups.add(SAMPLED.decode(r.value()));
                    }
                } catch (RecordDecodeException e) {
                    undecodable[0]++;
                }
            });
            if (from.equals(Topics.ROLLOUTS_SAMPLED)) {
                joinRecorded(settings, groups, recorded);
            }
            RescoreDiff diff = new RescoreDiff();
            long failed = 0;
            List<ScoredGroup> out = new ArrayList<>();
            BufferedWriter file = toFile == null ? null : Files.newBufferedWriter(toFile, StandardCharsets.UTF_8);
            try {
                for (SampledGroup g : groups) {
                    GroupScorer.GroupScore s;
                    try {
                        s = scorer.score(inputs(g));
                    } catch (RewardException | IllegalArgumentException e) {
                        failed++;
                        System.err.println("group " + g.getGroupId() + " cannot be rescored: " + e.getMessage());
                        continue;
                    }
                    ScoredGroup old = recorded.get(g.getGroupId().toString());
                    double[] oldR = old == null ? null : old.getScores().stream().mapToDouble(CompletionScore::getTotal).toArray();
                    double[] oldA = old == null ? null : old.getScores().stream().mapToDouble(CompletionScore::getAdvantage).toArray();
                    if (old != null && oldR.length == s.totals().length) {
                        diff.add(oldR, oldA, s.totals(), s.advantages());
                    } else {
                        diff.notPreviouslyScored++;
                    }
                    ScoredGroup rescored = scored(g, s, identity);
                    out.add(rescored);
                    if (file != null) {
                        file.write(line(g, oldR, oldA, s));
                        file.newLine();
                    }
                }
            } finally {
                if (file != null) {
                    file.close();
                }
            }
            if (toTopic != null) {
                publish(settings, out);
            }
            System.out.printf(Locale.ROOT, "rescored %d groups of %s with %s (%s)%s%s%n", out.size(), from, rewards, advantage,
                    failed == 0 ? "" : ", " + failed + " could not be scored",
                    undecodable[0] == 0 ? "" : ", " + undecodable[0] + " undecodable records skipped");
            diff.print(System.out);
            if (toFile != null) {
                System.out.println("written to " + toFile);
            }
            if (toTopic != null) {
                System.out.println("published to topic " + toTopic);
            }
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + toFile, e);
        }
    }

    /** The recorded scores of the sampled groups, from rollouts.scored (the first record of each group). */
    private static void joinRecorded(KafkaSettings settings, List<SampledGroup> groups, Map<String, ScoredGroup> recorded) {
        Map<String, Boolean> wanted = new HashMap<>();
        groups.forEach(g -> wanted.put(g.getGroupId().toString(), true));
        new TopicRange().read(settings, Topics.ROLLOUTS_SCORED, r -> {
            try {
                ScoredGroup sg = SCORED.decode(r.value());
                String id = sg.getGroup().getGroupId().toString();
                if (wanted.containsKey(id)) {
                    recorded.putIfAbsent(id, sg);
                }
            } catch (RecordDecodeException e) {
                // not a group that was scored
            }
        });
    }

    /** The reward inputs of a group's completions, as the scorer service builds them. */
    private List<RewardInput> inputs(SampledGroup g) {
        Prompt p = g.getPrompt();
        Map<String, String> fields = new LinkedHashMap<>();
        if (p.getFields() != null) {
            p.getFields().forEach((k, v) -> fields.put(k.toString(), v == null ? "" : v.toString()));
        }
        RewardInput.Builder problem = RewardInput.builder().task(p.getTask().toString()).prompt(p.getText().toString())
                .answer(p.getAnswer().toString()).fields(fields).maxNewTokens(maxNewTokens).targetLanguage(targetLanguage);
        List<RewardInput> out = new ArrayList<>();
        for (Completion c : g.getCompletions()) {
            out.add(problem.completion(c.getText().toString()).completionTokens(c.getTokenIds().size())
                    .finishReason(FinishReason.parse(c.getFinishReason() == null ? null : c.getFinishReason().name()))
                    .build());
        }
        return out;
    }

    private static ScoredGroup scored(SampledGroup g, GroupScorer.GroupScore s, ScorerIdentity identity) {
        double[] adv = s.advantages();
        List<CompletionScore> scores = new ArrayList<>(adv.length);
        for (int i = 0; i < adv.length; i++) {
            RewardScore r = s.scores().get(i);
            scores.add(CompletionScore.newBuilder().setComponents(new LinkedHashMap<>(r.components())).setTotal(r.total())
                    .setAdvantage(adv[i]).build());
        }
        return ScoredGroup.newBuilder().setGroup(g).setScores(scores).setScorer(identity)
                .setScoredAtMs(System.currentTimeMillis()).build();
    }

    private void publish(KafkaSettings settings, List<ScoredGroup> groups) {
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic(toTopic, 1, Map.of("max.message.bytes", Integer.toString(Topics.MAX_MESSAGE_BYTES)));
        }
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings.producerProps())) {
            for (ScoredGroup g : groups) {
                producer.send(new ProducerRecord<>(toTopic, g.getGroup().getPrompt().getId().toString()
                        .getBytes(StandardCharsets.UTF_8), SCORED.encode(g)));
            }
            producer.flush();
        }
    }

    private static String line(SampledGroup g, double[] oldR, double[] oldA, GroupScorer.GroupScore s) {
        StringJoiner comps = new StringJoiner(", ", "[", "]");
        for (RewardScore r : s.scores()) {
            StringJoiner c = new StringJoiner(", ", "{", "}");
            r.components().forEach((k, v) -> c.add(ExportCommand.quote(k) + ": " + num(v)));
            comps.add(c.toString());
        }
        return "{\"groupId\": " + ExportCommand.quote(g.getGroupId().toString()) + ", \"promptId\": "
                + ExportCommand.quote(g.getPrompt().getId().toString()) + ", \"policyVersion\": " + g.getPolicyVersion()
                + ", \"recordedRewards\": " + nums(oldR) + ", \"rewards\": " + nums(s.totals())
                + ", \"recordedAdvantages\": " + nums(oldA) + ", \"advantages\": " + nums(s.advantages())
                + ", \"components\": " + comps + "}";
    }

    private static String nums(double[] v) {
        if (v == null) {
            return "null";
        }
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (double d : v) {
            j.add(num(d));
        }
        return j.toString();
    }

    private static String num(double d) {
        return Double.isFinite(d) ? Double.toString(d) : "null";
    }
}
