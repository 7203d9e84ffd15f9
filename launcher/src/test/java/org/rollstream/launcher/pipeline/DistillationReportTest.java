package org.rollstream.launcher.pipeline;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's rows and budget table for the distillation stage's students, the on-policy one included when it ran. */
class DistillationReportTest {

    @Test
    void theOnPolicyStudentHasARowAndABudget(@TempDir Path dir) throws Exception {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("teacher.accuracy", 0.2);
        m.put("student.accuracy", 0.125);
        m.put("student.updates", 750.0);
        m.put("student.trained-sequences", 24_000.0);
        m.put("student.sampled-completions", 0.0);
        m.put("rl-student.accuracy", 0.045);
        m.put("rl-student.updates", 750.0);
        m.put("rl-student.trained-sequences", 24_960.0);
        m.put("rl-student.sampled-completions", 1920.0);
        m.put("onpolicy-student.accuracy", 0.15);
        m.put("onpolicy-student.updates", 780.0);
        m.put("onpolicy-student.onpolicy-updates", 30.0);
        m.put("onpolicy-student.trained-sequences", 25_920.0);
        m.put("onpolicy-student.sampled-completions", 1920.0);
        m.put("onpolicy-student.sampled-tokens", 31_000.0);
        m.put("onpolicy-student.probe-reverse-kl-before", 0.9);
        m.put("onpolicy-student.probe-reverse-kl-after", 0.6);
        m.put("onpolicy-student.first-reverse-kl", 0.95);
        m.put("onpolicy-student.final-reverse-kl", 0.65);
        m.put(Metrics.ACCURACY, 0.125);
        Map<String, StageResult> results = Map.of(DistillationStage.NAME, new StageResult(DistillationStage.NAME, Map.of(), m));
        PipelineReport.write(dir.resolve("report"), results, "rollstream pipeline --on-policy-distill");
        String md = Files.readString(dir.resolve("report/summary.md"));
        assertTrue(md.contains("| distillation / onpolicy-student | 15.0% |"), md);
        assertTrue(md.contains("| onpolicy-student | 15.0% | 780 | 25,920 | 1,920 |"), md);
        assertTrue(md.contains("| rl-student | 4.5% | 750 | 24,960 | 1,920 |"), md);
        assertTrue(md.contains("| student | 12.5% | 750 | 24,000 | 0 |"), md);
        assertTrue(md.contains("held-out prompts 0.9000 -> 0.6000"), md);

        m.keySet().removeIf(k -> k.startsWith("onpolicy-student."));
        PipelineReport.write(dir.resolve("plain"), Map.of(DistillationStage.NAME, new StageResult(DistillationStage.NAME, Map.of(), m)), null);
        String plain = Files.readString(dir.resolve("plain/summary.md"));
        assertFalse(plain.contains("onpolicy-student"), plain);
        assertTrue(plain.contains("| rl-student | 4.5% |"), plain);
    }
}
