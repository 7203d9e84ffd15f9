package org.rollstream.learner;

import java.util.Iterator;
import org.rollstream.learner.state.RunIdentity;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskInstance;

/**
 * The training prompts of a run in a fixed order: index i is always the same problem under the same
 * id, so a prompt issued again after a restart is recognised as the same prompt.
 */
final class PromptSource {
    private final RunIdentity run;
    private final String policyName;
    private final TaskDataset dataset;
    private Iterator<TaskInstance> sequential;
    private long next = -1;

    PromptSource(RunIdentity run, String policyName, TaskDataset dataset) {
        this.run = run;
        this.policyName = policyName;
        this.dataset = dataset;
    }

    /**
     * Prompt {@code index}, to be sampled with this run's weights at version ≥ {@code minVersion}.
     * Reading indices in order is cheap; any other index walks its epoch from the start.
     */
    Prompt prompt(long index, long issuedAtVersion, long minVersion, long nowMs) {
        int perEpoch = Math.max(1, dataset.epochSize());
        if (index != next || sequential == null || !sequential.hasNext()) {
            sequential = dataset.train((int) (index / perEpoch));
            for (long skip = index % perEpoch; skip > 0 && sequential.hasNext(); skip--) {
                sequential.next();
            }
        }
        TaskInstance inst = sequential.next();
        next = index + 1;
        if (next % perEpoch == 0) {
            sequential = null; // the next index starts a new epoch's order
        }
        return Prompt.newBuilder()
                .setId(run.promptId(index))
                .setRunId(run.runId())
                .setTask(inst.task())
                .setText(inst.text())
                .setAnswer(inst.answer())
                .setFields(inst.fields())
                .setDataset(dataset.name())
                .setSplit("train")
                .setEpoch((int) (index / perEpoch))
                .setIssuedAtVersion(issuedAtVersion)
                .setIssuedAtMs(nowMs)
                .setPolicy(policyName)
                .setMinPolicyVersion(minVersion)
                .build();
    }
}
