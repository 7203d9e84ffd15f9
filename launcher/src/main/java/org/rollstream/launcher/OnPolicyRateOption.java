package org.rollstream.launcher;

import java.util.List;
import org.rollstream.launcher.pipeline.R1Stages;
import org.rollstream.launcher.pipeline.Stage;
import picocli.CommandLine.Option;

/** {@code --on-policy-rate}, shared by {@code pipeline} and {@code bench pipeline}. */
final class OnPolicyRateOption {
    @Option(names = "--on-policy-rate", paramLabel = "RATE", description = {"AdamW rate of the on-policy distillation",
            "updates after their warm-up (default: 5e-4). Lower keeps more of the distilled student's accuracy; see README."})
    Double rate;

    /** R1's stages with this rate for the on-policy updates (the stage's default when not given). */
    List<Stage> stages(boolean onPolicyDistill) {
        if (rate != null && !(rate > 0 && rate < 1)) {
            throw new UsageException("--on-policy-rate must be in (0, 1), got " + rate);
        }
        return R1Stages.all(onPolicyDistill, rate);
    }

    /** The flag as a command line repeats it, with a leading space; empty when not given. */
    String flag() {
        return rate == null ? "" : " --on-policy-rate " + rate;
    }
}
