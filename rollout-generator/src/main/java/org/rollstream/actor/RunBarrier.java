package org.rollstream.actor;

import org.rollstream.schemas.records.Prompt;

/**
 * Which weights may sample a prompt: only those of the prompt's run, at least at its
 * {@code minPolicyVersion} (the learner's staleness bound, enforced where sampling happens). A
 * prompt of another run waits for its run's weights, or is refused when that run was superseded
 * or its weights never came; a prompt of the right run whose version wait expired is sampled with
 * what serves (the learner then judges its staleness). Prompts without a run id (written before
 * runs had ids) keep the version rule alone.
 */
final class RunBarrier {
    /** What to do with one prompt now. */
    enum Action { SAMPLE, WAIT, REFUSE }

    /** @param reason why a prompt is refused, or why it is sampled below its version; null otherwise */
    record Decision(Action action, String reason) {
        static final Decision SAMPLE = new Decision(Action.SAMPLE, null);
        static final Decision WAIT = new Decision(Action.WAIT, null);
    }

    private final AnnouncedRuns runs;

    RunBarrier(AnnouncedRuns runs) {
        this.runs = runs;
    }

    /**
     * @param serving the weights serving now
     * @param expired whether the prompt has waited as long as it may; then the answer is never WAIT
     */
    Decision decide(Prompt p, PolicyIdentity serving, boolean expired) {
        String run = p.getRunId() == null ? "" : p.getRunId().toString();
        if (!serving.serves(run)) {
            if (runs.isRetired(run)) {
                return new Decision(Action.REFUSE, "prompt " + p.getId() + " belongs to run '" + run
                        + "', superseded on policy.versions by run '" + runs.current() + "'; its weights are no longer served");
            }
            return expired ? new Decision(Action.REFUSE, "no weights of run '" + run + "' arrived while prompt " + p.getId()
                    + " waited (serving " + serving + ")") : Decision.WAIT;
        }
        if (serving.version() >= p.getMinPolicyVersion()) {
            return Decision.SAMPLE;
        }
        return expired ? new Decision(Action.SAMPLE, "prompt " + p.getId() + " needs v" + p.getMinPolicyVersion()
                + " but waited in vain; sampled with " + serving) : Decision.WAIT;
    }
}
