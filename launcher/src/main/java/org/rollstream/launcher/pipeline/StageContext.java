package org.rollstream.launcher.pipeline;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import org.rollstream.transport.KafkaSettings;

/**
 * What a stage runs with.
 *
 * @param pipelineDir the pipeline's directory; each stage writes under {@code pipelineDir/<stage name>}
 * @param kafka       the cluster the stage's roles talk through
 * @param seed        the pipeline's seed; stages derive theirs from it
 * @param scale       size knob: 1.0 is the default miniature, smaller values shrink steps and prompt counts (CI uses ~0.3)
 * @param earlier     results of the stages that completed before, by name
 * @param out         progress lines
 */
public record StageContext(Path pipelineDir, KafkaSettings kafka, long seed, double scale,
                           Map<String, StageResult> earlier, PrintStream out) {

    /** This stage's own directory. */
    public Path stageDir(Stage stage) {
        return pipelineDir.resolve(stage.name());
    }

    /**
     * The result of stage {@code name}.
     *
     * @throws PipelineException naming the missing stage when it has not completed
     */
    public StageResult input(String name) {
        StageResult r = earlier.get(name);
        if (r == null) {
            r = StageResult.load(pipelineDir.resolve(name));
        }
        if (r == null) {
            throw new PipelineException("this stage needs the output of stage '" + name + "', which has not run in "
                    + pipelineDir.toAbsolutePath() + " (no " + name + "/stage.json): run it first, e.g. rollstream pipeline --only " + name);
        }
        return r;
    }

    /** {@code n} scaled by {@link #scale}, at least {@code min}. */
    public int scaled(int n, int min) {
        return Math.max(min, (int) Math.round(n * scale));
    }
}
