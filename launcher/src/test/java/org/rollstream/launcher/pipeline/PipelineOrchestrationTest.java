package org.rollstream.launcher.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The orchestrator's rules with stages that write a file: order, skip on stage.json (resume),
 * --only/--from rerun, --skip, and the missing-input check that names the stage before anything runs.
 * (The real stages run end to end in the tests module's PipelineTest.)
 */
class PipelineOrchestrationTest {
    @TempDir
    Path dir;

    private final List<String> ran = new ArrayList<>();

    private Stage stage(String name, String... needs) {
        return new Stage() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public List<String> needs() {
                return List.of(needs);
            }

            @Override
            public StageResult run(StageContext c) throws Exception {
                for (String n : needs) {
                    c.input(n); // throws naming the stage when absent
                }
                ran.add(name);
                Path out = c.stageDir(this).resolve("out.txt");
                Files.createDirectories(out.getParent());
                Files.writeString(out, name);
                return new StageResult(name, Map.of("out", out), Map.of(Metrics.ACCURACY, 0.5, Metrics.SECONDS, 1.0));
            }
        };
    }

    private Pipeline pipeline() {
        return new Pipeline(List.of(stage("a"), stage("b", "a"), stage("c", "b")), dir);
    }

    private Map<String, StageResult> run(Pipeline.Selection s) throws Exception {
        return pipeline().run(s, () -> null, 1, 0.1, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }

    @Test
    void runsInOrderThenResumesBySkippingCompletedStages() throws Exception {
        Map<String, StageResult> first = run(Pipeline.Selection.all());
        assertEquals(List.of("a", "b", "c"), ran);
        assertEquals(List.of("a", "b", "c"), List.copyOf(first.keySet()));
        assertTrue(Files.exists(dir.resolve("b/stage.json")));
        ran.clear();
        Map<String, StageResult> again = run(Pipeline.Selection.all());
        assertEquals(List.of(), ran, "completed stages are skipped");
        assertEquals(first.get("c").artifacts(), again.get("c").artifacts());
    }

    @Test
    void onlyAndFromRunAgainAndSkipNeverRuns() throws Exception {
        run(Pipeline.Selection.all());
        ran.clear();
        run(new Pipeline.Selection(Set.of("b"), null, Set.of()));
        assertEquals(List.of("b"), ran);
        ran.clear();
        run(new Pipeline.Selection(Set.of(), "b", Set.of()));
        assertEquals(List.of("b", "c"), ran);
        ran.clear();
        run(new Pipeline.Selection(Set.of(), "a", Set.of("b")));
        assertEquals(List.of("a", "c"), ran, "c reads b's saved result");
    }

    @Test
    void aStageWithoutItsInputFailsNamingTheMissingStageBeforeAnythingRuns() {
        PipelineException e = assertThrows(PipelineException.class,
                () -> run(new Pipeline.Selection(Set.of("a", "c"), null, Set.of())));
        assertTrue(e.getMessage().contains("stage 'c' needs the output of stage 'b'"), e.getMessage());
        assertEquals(List.of(), ran, "nothing ran");
        PipelineException skipped = assertThrows(PipelineException.class,
                () -> run(new Pipeline.Selection(Set.of(), null, Set.of("a"))));
        assertTrue(skipped.getMessage().contains("'a'") && skipped.getMessage().contains("--skip"), skipped.getMessage());
        PipelineException unknown = assertThrows(PipelineException.class,
                () -> run(new Pipeline.Selection(Set.of("z"), null, Set.of())));
        assertTrue(unknown.getMessage().contains("unknown stage 'z'"), unknown.getMessage());
    }

    @Test
    void theReportListsEveryStageModelAndArtifact() throws Exception {
        Map<String, StageResult> results = new java.util.LinkedHashMap<>(run(Pipeline.Selection.all()));
        results.put("distillation", new StageResult("distillation", Map.of(),
                Map.of("student.accuracy", 0.4, "rl-student.accuracy", 0.3, Metrics.ACCURACY, 0.4)));
        List<Path> files = PipelineReport.write(dir.resolve("report"), results, "rollstream pipeline");
        String md = Files.readString(dir.resolve("report/summary.md"));
        assertTrue(md.contains("| distillation / student | 40.0% |"), md);
        assertTrue(md.contains("| distillation / rl-student | 30.0% |"), md);
        assertTrue(md.contains("a `out`: a/out.txt"), md);
        assertTrue(files.stream().anyMatch(p -> p.getFileName().toString().equals("accuracy.png")));
        for (Path f : files) {
            assertTrue(Files.size(f) > 0, f + " is empty");
        }
    }
}
