package org.rollstream.reward.topic;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;

/**
 * The line the score bridge writes to an external scorer's stdin for one sampled group:
 * <pre>{@code
 * {"group_id": "...", "prompt_id": "...", "task": "arithmetic", "prompt": "...", "answer": "85",
 *  "fields": {...}, "policy_version": 3, "component": "judge",
 *  "completions": [{"index": 0, "text": "...", "finish_reason": "STOP", "tokens": 12}, ...]}
 * }</pre>
 * The scorer answers each with one line in the JSON variant of {@code PartialReward}
 * ({@link PartialRewardCodec}); {@code component} may be left out (the bridge fills it in).
 */
public final class BridgeJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private BridgeJson() {
    }

    /** One line, without the newline. */
    public static String group(SampledGroup g, String component) {
        Prompt p = g.getPrompt();
        ObjectNode n = JSON.createObjectNode().put("group_id", g.getGroupId()).put("prompt_id", p.getId())
                .put("task", p.getTask()).put("prompt", p.getText()).put("answer", p.getAnswer());
        ObjectNode fields = n.putObject("fields");
        p.getFields().forEach((k, v) -> fields.put(k.toString(), v == null ? "" : v.toString()));
        n.put("policy_version", g.getPolicyVersion()).put("component", component);
        ArrayNode cs = n.putArray("completions");
        int i = 0;
        for (Completion c : g.getCompletions()) {
            cs.addObject().put("index", i++).put("text", c.getText())
                    .put("finish_reason", c.getFinishReason() == null ? "UNKNOWN" : c.getFinishReason().name())
                    .put("tokens", c.getTokenIds() == null ? 0 : c.getTokenIds().size());
        }
        return n.toString();
    }

    /**
     * Reads a scorer's answer line, filling in {@code component} when it is missing.
     *
     * @throws org.rollstream.transport.errors.BadRecordException when it is not a partial reward
     */
    public static PartialScore answer(String line, String component) {
        String l = line.strip();
        if (l.startsWith("{") && !l.contains("\"component\"")) {
            l = "{\"component\": " + JSON.getNodeFactory().textNode(component) + ", " + l.substring(1);
        }
        return PartialRewardCodec.decode(l.getBytes(StandardCharsets.UTF_8));
    }
}
