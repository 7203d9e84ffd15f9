package org.rollstream.launcher.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a stage produced: named artifacts (files under the pipeline directory) and named figures
 * (see {@link Metrics} for the keys every stage that trains a policy reports).
 *
 * @param stage     the stage's name
 * @param artifacts artifact name → file, e.g. {@code policy} → the final weights
 * @param metrics   figure name → value (accuracy as a fraction, times in seconds)
 */
public record StageResult(String stage, Map<String, Path> artifacts, Map<String, Double> metrics) {

    /** Well-known artifact names. */
    public static final String POLICY = "policy";
    public static final String BASE = "base";
    public static final String SAMPLES = "samples";
    public static final String REWARD_MODEL = "reward-model";

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String FILE = "stage.json";

    public StageResult {
        artifacts = Map.copyOf(artifacts);
        metrics = Map.copyOf(metrics);
    }

    /** @throws PipelineException naming the artifact and the stage when it is absent or its file is gone */
    public Path artifact(String name) {
        Path p = artifacts.get(name);
        if (p == null) {
            throw new PipelineException("stage '" + stage + "' has no artifact '" + name + "' (it has " + artifacts.keySet() + ")");
        }
        if (!Files.exists(p)) {
            throw new PipelineException("artifact '" + name + "' of stage '" + stage + "' is missing: " + p
                    + "; run stage '" + stage + "' again");
        }
        return p;
    }

    /** Writes {@code stage.json} in {@code dir}, paths relative to {@code dir}'s parent (the pipeline directory). */
    public void save(Path dir) {
        ObjectNode root = JSON.createObjectNode();
        root.put("stage", stage);
        ObjectNode a = root.putObject("artifacts");
        Path base = dir.toAbsolutePath().getParent();
        artifacts.forEach((k, v) -> a.put(k, base.relativize(v.toAbsolutePath()).toString()));
        ObjectNode m = root.putObject("metrics");
        metrics.forEach(m::put);
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve(FILE + ".tmp");
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), root);
            Files.move(tmp, dir.resolve(FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(FILE), e);
        }
    }

    /** Reads {@code dir/stage.json}; null when the stage has not completed there. */
    public static StageResult load(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) {
            return null;
        }
        try {
            JsonNode root = JSON.readTree(f.toFile());
            Path base = dir.toAbsolutePath().getParent();
            Map<String, Path> artifacts = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.path("artifacts").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                artifacts.put(e.getKey(), base.resolve(e.getValue().asText()));
            }
            Map<String, Double> metrics = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.path("metrics").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                metrics.put(e.getKey(), e.getValue().asDouble());
            }
            return new StageResult(root.path("stage").asText(), artifacts, metrics);
        } catch (IOException e) {
            throw new PipelineException("unreadable " + f + ": " + e.getMessage());
        }
    }
}
