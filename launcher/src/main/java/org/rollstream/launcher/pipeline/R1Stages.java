package org.rollstream.launcher.pipeline;

import java.util.List;

/** DeepSeek-R1's stages in order, as {@code rollstream pipeline} runs them. */
public final class R1Stages {
    private R1Stages() {
    }

    /** reasoning-rl → rejection-sft → alignment → distillation; {@code onPolicyDistill} adds on-policy distillation to the last. */
    public static List<Stage> all(boolean onPolicyDistill) {
        return List.of(new ReasoningRlStage(), new RejectionSftStage(), new AlignmentStage(), new DistillationStage(onPolicyDistill));
    }

    /** {@link #all(boolean)} with the on-policy distillation updates at {@code onPolicyRate} (null: the stage's default). */
    public static List<Stage> all(boolean onPolicyDistill, Double onPolicyRate) {
        DistillationStage d = new DistillationStage(onPolicyDistill);
        return List.of(new ReasoningRlStage(), new RejectionSftStage(), new AlignmentStage(),
                onPolicyRate == null ? d : d.withOnPolicyRate(onPolicyRate));
    }
}
