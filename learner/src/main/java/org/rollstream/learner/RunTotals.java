package org.rollstream.learner;

import java.util.ArrayList;
import java.util.List;

/**
 * Running totals of a run that must survive restarts so the summary describes the whole run, not
 * only the part after the last resume. Saved in every checkpoint.
 *
 * @param coldStartAccuracy held-out accuracy when GRPO first began (NaN until measured)
 * @param stepRewards       mean sampled reward of every step so far
 * @param trainedTokens     completion tokens trained
 * @param seconds           wall time of the learner so far (cold start included), across incarnations
 * @param grpoSeconds       wall time since GRPO first began, across incarnations
 * @param trainSeconds      time inside optimizer steps
 * @param evalSeconds       time spent evaluating
 * @param grpoStartMs       when GRPO first began (epoch ms)
 * @param restarts          incarnations that resumed from a checkpoint
 * @param resumeSeconds     total time from process start to GRPO running again, over those restarts
 */
public record RunTotals(double coldStartAccuracy, List<Double> stepRewards, long trainedTokens, double seconds,
                        double grpoSeconds, double trainSeconds, double evalSeconds, long grpoStartMs, long restarts,
                        double resumeSeconds) {
    public RunTotals {
        stepRewards = List.copyOf(stepRewards);
    }

    static RunTotals start() {
        return new RunTotals(Double.NaN, List.of(), 0, 0, 0, 0, 0, 0, 0, 0);
    }

    RunTotals withStep(double reward, long tokens, double trainSec) {
        List<Double> r = new ArrayList<>(stepRewards);
        r.add(reward);
        return new RunTotals(coldStartAccuracy, r, trainedTokens + tokens, seconds, grpoSeconds, trainSeconds + trainSec,
                evalSeconds, grpoStartMs, restarts, resumeSeconds);
    }

    RunTotals withEval(double sec) {
        return new RunTotals(coldStartAccuracy, stepRewards, trainedTokens, seconds, grpoSeconds, trainSeconds,
                evalSeconds + sec, grpoStartMs, restarts, resumeSeconds);
    }

    RunTotals withGrpoStart(double accuracy, long startMs) {
        return new RunTotals(accuracy, stepRewards, trainedTokens, seconds, grpoSeconds, trainSeconds, evalSeconds, startMs,
                restarts, resumeSeconds);
    }

    RunTotals withResume(double sec) {
        return new RunTotals(coldStartAccuracy, stepRewards, trainedTokens, seconds, grpoSeconds, trainSeconds,
                evalSeconds, grpoStartMs, restarts + 1, resumeSeconds + sec);
    }

    /** Adds this incarnation's wall time (since it started, and since its GRPO began) to the totals. */
    RunTotals plusWall(double sec, double grpoSec) {
        return new RunTotals(coldStartAccuracy, stepRewards, trainedTokens, seconds + sec, grpoSeconds + grpoSec,
                trainSeconds, evalSeconds, grpoStartMs, restarts, resumeSeconds);
    }
}
