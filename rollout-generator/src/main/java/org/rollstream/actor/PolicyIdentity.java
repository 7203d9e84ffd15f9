package org.rollstream.actor;

import org.rollstream.schemas.records.PolicyVersion;

/**
 * Names a set of weights exactly: the learner run that trained them, which start (incarnation) of
 * that run published them, and the version. A version number alone means nothing across runs: a
 * new run on a shared cluster starts again at 0.
 *
 * @param runId       the learner run; empty for records written before runs had ids
 * @param incarnation which start of the run published the version (0 = first)
 * @param version     the policy version, strictly increasing within a run
 */
record PolicyIdentity(String runId, long incarnation, long version) {
    PolicyIdentity {
        runId = runId == null ? "" : runId;
    }

    static PolicyIdentity of(PolicyVersion v) {
        return new PolicyIdentity(v.getRunId() == null ? "" : v.getRunId().toString(), v.getIncarnation(), v.getVersion());
    }

    /**
     * Whether an actor serving these weights should switch to {@code next}: always for another run
     * (the newer announcement names the run being trained now, whatever its version numbers), and
     * within one run for a later incarnation or, in the same incarnation, a higher version.
     */
    boolean isSupersededBy(PolicyIdentity next) {
        if (!runId.equals(next.runId)) {
            return true;
        }
        return next.incarnation > incarnation || (next.incarnation == incarnation && next.version > version);
    }

    /** Whether these weights may sample a prompt of {@code promptRunId} (empty: a prompt from before run ids). */
    boolean serves(String promptRunId) {
        return promptRunId.isEmpty() || promptRunId.equals(runId);
    }

    @Override
    public String toString() {
        return (runId.isEmpty() ? "" : "run '" + runId + "' ") + "v" + version + (incarnation == 0 ? "" : " (incarnation " + incarnation + ")");
    }
}
