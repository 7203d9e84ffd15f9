package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.rollstream.actor.ActorStats;
import org.rollstream.launcher.metrics.RoleMetrics;
import org.rollstream.reward.service.ScorerStats;
import org.rollstream.schemas.records.MetricEvent;
import org.yaml.snakeyaml.Yaml;

/**
 * compose/ is consistent: the file validates with docker-compose where the binary exists (CI
 * installs Debian's package), the roles run the project's image with health checks and only the
 * learner's run directory as a volume, the shared settings file is one the roles accept, and every
 * series the Grafana dashboard queries is one the roles serve.
 */
class ComposeConfigTest {
    private static final Path COMPOSE = Path.of("..", "compose").toAbsolutePath().normalize();

    @Test
    void dockerComposeValidatesTheFile() throws Exception {
        List<String> command = null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "docker-compose"))) {
                command = List.of(Path.of(dir, "docker-compose").toString());
                break;
            }
        }
        if (command == null) {
            System.out.println("ComposeConfigTest: docker-compose not on PATH, config check skipped"
                    + " (CI installs it: apt-get install docker-compose)");
        }
        Assumptions.assumeTrue(command != null, "docker-compose is not installed");
        ProcessBuilder pb = new ProcessBuilder(new java.util.ArrayList<>(command));
        pb.command().addAll(List.of("-f", COMPOSE.resolve("docker-compose.yml").toString(), "config", "-q"));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, "docker-compose config did not finish");
        assertEquals(0, p.exitValue(), "docker-compose config -q: " + out);
    }

    @Test
    @SuppressWarnings("unchecked")
    void rolesUseTheImageWithHealthChecksAndOnlyTheRunDirectoryAsVolume() throws Exception {
        Map<String, Object> doc = new Yaml().load(Files.readString(COMPOSE.resolve("docker-compose.yml")));
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) doc.get("services");
        for (String s : List.of("kafka-1", "kafka-2", "kafka-3", "topics", "learner", "scorer", "actor", "actor-gpu",
                "prometheus", "grafana")) {
            assertTrue(services.containsKey(s), "service " + s);
        }
        for (String role : List.of("learner", "scorer", "actor", "actor-gpu")) {
            Map<String, Object> svc = services.get(role);
            assertTrue(String.valueOf(svc.get("image")).contains("rollstream"), role + " image");
            assertTrue(svc.containsKey("healthcheck"), role + " health check");
            List<String> cmd = (List<String>) svc.get("command");
            assertEquals(role.replace("-gpu", ""), cmd.get(0));
            assertTrue(cmd.contains("--metrics-port") && cmd.contains("--config"), role + ": " + cmd);
            for (String v : (List<String>) svc.get("volumes")) {
                String source = v.split(":")[0];
                assertTrue(source.equals("./rollstream.yaml") || role.equals("learner") && source.equals("runs"),
                        role + " mounts only the settings file (and the learner its run directory): " + v);
            }
        }
        assertTrue(((List<String>) services.get("actor").get("command")).contains("--weights-store"),
                "actors get weights over Kafka, not from a shared disk");
        assertTrue(services.get("actor-gpu").get("build").toString().contains("Dockerfile.gpu"));
        assertTrue(Files.readString(COMPOSE.resolve("Dockerfile.gpu")).contains("FROM nvidia/cuda:"));
    }

    @Test
    void theSharedSettingsFileIsAcceptedByEveryRole() {
        for (String role : List.of("learner", "scorer", "actor")) {
            CliOutcome o = CliOutcome.run(role, "--config", COMPOSE.resolve("rollstream.yaml").toString(), "--print-config");
            assertEquals(0, o.code(), role + ": " + o.err());
            assertTrue(o.out().contains("bootstrap-servers: kafka-1:9092,kafka-2:9092,kafka-3:9092  # file"), o.out());
        }
    }

    @Test
    void everySeriesTheDashboardQueriesIsServed() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(COMPOSE.resolve("grafana/dashboards/rollstream.json").toFile());
        Set<String> queried = new TreeSet<>();
        Pattern name = Pattern.compile("rollstream_[a-z_]+");
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                Matcher m = name.matcher(target.get("expr").asText());
                while (m.find()) {
                    queried.add(m.group());
                }
            }
        }
        assertFalse(queried.isEmpty());
        String scrape;
        try (RoleMetrics metrics = new RoleMetrics()) {
            metrics.bindActor(new ActorStats());
            metrics.bindScorer(new ScorerStats());
            metrics.learnerListener().accept(MetricEvent.newBuilder().setRole("learner").setInstance("t").setKind("train")
                    .setStep(1).setTimestampMs(0).setValues(Map.of("reward", 0.5, "kl", 0.0, "mismatch_kl", 0.0,
                            "version", 1.0, "staleness", 0.0, "tokens_per_s", 1.0)).build());
            scrape = metrics.scrape();
        }
        for (String series : queried) {
            // consumer lag appears once a group has committed (tested against a broker in RoleMetricsEndpointTest)
            if (!series.equals("rollstream_consumer_lag_records")) {
                assertTrue(scrape.contains(series), "the dashboard queries " + series + ", which no role serves");
            }
        }
        String prometheus = Files.readString(COMPOSE.resolve("prometheus.yml"));
        for (String job : List.of("learner", "scorer", "actor")) {
            assertTrue(prometheus.contains("job_name: " + job), job);
        }
        assertTrue(prometheus.contains("9400"), "scrapes the roles' --metrics-port");
    }
}
