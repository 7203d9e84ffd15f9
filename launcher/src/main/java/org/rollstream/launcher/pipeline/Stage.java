package org.rollstream.launcher.pipeline;

import java.util.List;

/**
 * One stage of the R1 pipeline. A stage reads only the artifacts of earlier stages (through
 * {@link StageContext#input}) and writes its own under {@link StageContext#stageDir}; what it
 * returns is saved as {@code stage.json} there, which is how a later invocation skips or resumes it.
 * Stages run their roles over Kafka like {@code rollstream run} does.
 */
public interface Stage {

    /** The stage's name in flags, directories and the report, e.g. {@code rejection-sft}. */
    String name();

    /** Names of the stages whose artifacts this one reads; checked before it starts. */
    List<String> needs();

    /**
     * Runs the stage to completion.
     *
     * @throws PipelineException for missing or unusable inputs (the message names the stage to run first)
     */
    StageResult run(StageContext context) throws Exception;
}
