package org.rollstream.reward;

import org.rollstream.tasks.TaskInstance;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a rule reward may look at for one completion. Independent of the Avro records so
 * rewards can be tested and reused without Kafka.
 *
 * @param task             task name, e.g. {@code countdown}
 * @param prompt           the prompt text
 * @param answer           ground-truth answer
 * @param fields           verification spec (copied, unmodifiable)
 * @param completion       generated text only, prompt excluded
 * @param completionTokens number of generated tokens
 * @param finishReason     STOP, LENGTH (truncated) or UNKNOWN
 * @param maxNewTokens     the sampling limit; 0 when unknown
 * @param targetLanguage   a Unicode script name ({@code LATIN}) or language code ({@code en}); empty when not set
 * @param groupId          the sampled group this completion belongs to; empty outside the scorer service
 * @param metadata         context for external scorers (prompt id, dataset, policy version, completion index);
 *                         copied, unmodifiable, never read by the built-in rewards
 */
public record RewardInput(String task, String prompt, String answer, Map<String, String> fields, String completion,
                          int completionTokens, FinishReason finishReason, int maxNewTokens, String targetLanguage,
                          String groupId, Map<String, String> metadata) {

    public RewardInput {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(answer, "answer");
        Objects.requireNonNull(completion, "completion");
        fields = fields == null ? Map.of() : Map.copyOf(fields);
        finishReason = finishReason == null ? FinishReason.UNKNOWN : finishReason;
        targetLanguage = targetLanguage == null ? "" : targetLanguage.strip();
        groupId = groupId == null ? "" : groupId;
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        if (completionTokens < 0 || maxNewTokens < 0) {
            throw new IllegalArgumentException("token counts must be non-negative");
        }
    }

    /** Without group id and metadata, as before they existed. */
    public RewardInput(String task, String prompt, String answer, Map<String, String> fields, String completion,
                       int completionTokens, FinishReason finishReason, int maxNewTokens, String targetLanguage) {
        this(task, prompt, answer, fields, completion, completionTokens, finishReason, maxNewTokens, targetLanguage, "", Map.of());
    }

    public Optional<String> language() {
        return targetLanguage.isEmpty() ? Optional.empty() : Optional.of(targetLanguage);
    }

    /** The problem as the tasks module sees it, for verification. */
    public TaskInstance instance() {
        return TaskInstance.fromFields(task, "", prompt, answer, fields);
    }

    /** Inputs for every completion of a problem: fill in the problem once, then the completion part. */
    public static Builder forProblem(TaskInstance problem) {
        return new Builder().task(problem.task()).prompt(problem.text()).answer(problem.answer()).fields(problem.fields());
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private String task = "";
        private String prompt = "";
        private String answer = "";
        private Map<String, String> fields = Map.of();
        private String completion = "";
        private int completionTokens;
        private FinishReason finishReason = FinishReason.UNKNOWN;
        private int maxNewTokens;
        private String targetLanguage = "";
        private String groupId = "";
        private Map<String, String> metadata = Map.of();

        public Builder task(String v) { task = v; return this; }
        public Builder prompt(String v) { prompt = v; return this; }
        public Builder answer(String v) { answer = v; return this; }
        public Builder fields(Map<String, String> v) { fields = v; return this; }
        public Builder completion(String v) { completion = v; return this; }
        public Builder completionTokens(int v) { completionTokens = v; return this; }
        public Builder finishReason(FinishReason v) { finishReason = v; return this; }
        public Builder maxNewTokens(int v) { maxNewTokens = v; return this; }
        public Builder targetLanguage(String v) { targetLanguage = v; return this; }
        public Builder groupId(String v) { groupId = v; return this; }
        public Builder metadata(Map<String, String> v) { metadata = v; return this; }

        public RewardInput build() {
            return new RewardInput(task, prompt, answer, fields, completion, completionTokens, finishReason, maxNewTokens, targetLanguage,
                    groupId, metadata);
        }
    }
}
