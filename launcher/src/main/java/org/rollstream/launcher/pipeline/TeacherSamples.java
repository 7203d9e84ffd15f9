package org.rollstream.launcher.pipeline;

import java.nio.file.Path;
import java.util.List;
import org.rollstream.learner.sft.SftTrainer;

/** Where the distillation stage's teacher samples come from. */
@FunctionalInterface
public interface TeacherSamples {

    /**
     * The samples made.
     *
     * @param file      the JSONL file the kept reasoning samples were exported to (the {@code teacher-samples} artifact)
     * @param pairs     the SFT data: the kept reasoning samples, mixed with general data as stage 3 mixes them
     * @param reasoning how many of {@code pairs} are kept reasoning samples
     */
    record Samples(Path file, List<SftTrainer.Pair> pairs, int reasoning) {
        public Samples {
            pairs = List.copyOf(pairs);
        }
    }

    /** Samples {@code teacherWeights} and writes the samples under {@code dir}. */
    Samples generate(StageContext context, Path teacherWeights, Path dir) throws Exception;

    /** Stage 3's rejection sampling (actors, scorer and the rejection filter over Kafka) with the teacher as the source. */
    TeacherSamples REJECTION_SAMPLING = (context, teacherWeights, dir) -> {
        throw new UnsupportedOperationException("rejection sampling is not integrated yet");
    };
}
