package org.rollstream.reward.http;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.rollstream.reward.ComponentScore;
import org.rollstream.reward.RewardInput;

/**
 * The JSON spoken with an HTTP reward endpoint, in one of two formats.
 *
 * <p>{@code rollstream} (default). Request, one per group:
 * <pre>{@code
 * {"protocol": "rollstream.reward.v1", "reward": "judge", "group_id": "g-17",
 *  "items": [{"index": 0, "group_id": "g-17", "task": "arithmetic", "prompt": "...", "completion": "...",
 *             "answer": "85", "fields": {...}, "finish_reason": "STOP", "completion_tokens": 12,
 *             "metadata": {"prompt_id": "...", "policy_version": "3", ...}}, ...]}
 * }</pre>
 * Response: {@code {"rewards": [r0, r1, ...], "components": {"name": [c0, c1, ...]}, "info": <any>}}
 * with exactly one finite reward per item, in order; {@code components} and {@code info} are
 * optional (components are recorded as {@code judge.<name>}, info is logged).
 *
 * <p>{@code openrlhf}: the de-facto remote reward model format. Request
 * {@code {"query": [prompt + completion, ...], "prompts": [prompt, ...], "labels": [answer, ...]}},
 * response {@code {"rewards": [...]}}.
 *
 * <p>Anything else in a response (not JSON, no {@code rewards} array, the wrong count, a value that
 * is not a finite number) is a {@link BadResponseException}.
 */
final class HttpRewardProtocol {
    static final String PROTOCOL = "rollstream.reward.v1";
    static final String ROLLSTREAM = "rollstream";
    static final String OPENRLHF = "openrlhf";

    // Python's json module writes NaN and Infinity: read them, so the error says "NaN" rather than "not JSON"
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS);

    private final String format;
    private final String reward;

    HttpRewardProtocol(String format, String reward) {
        this.format = format;
        this.reward = reward;
    }

    byte[] request(List<RewardInput> group) {
        ObjectNode root = JSON.createObjectNode();
        if (OPENRLHF.equals(format)) {
            ArrayNode query = root.putArray("query");
            ArrayNode prompts = root.putArray("prompts");
            ArrayNode labels = root.putArray("labels");
            for (RewardInput in : group) {
                query.add(in.prompt() + in.completion());
                prompts.add(in.prompt());
                labels.add(in.answer());
            }
        } else {
            root.put("protocol", PROTOCOL).put("reward", reward).put("group_id", group.isEmpty() ? "" : group.get(0).groupId());
            ArrayNode items = root.putArray("items");
            for (int i = 0; i < group.size(); i++) {
                RewardInput in = group.get(i);
                ObjectNode item = items.addObject();
                item.put("index", i).put("group_id", in.groupId()).put("task", in.task()).put("prompt", in.prompt())
                        .put("completion", in.completion()).put("answer", in.answer());
                ObjectNode fields = item.putObject("fields");
                in.fields().forEach(fields::put);
                item.put("finish_reason", in.finishReason().name()).put("completion_tokens", in.completionTokens());
                ObjectNode meta = item.putObject("metadata");
                in.metadata().forEach(meta::put);
            }
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a reward request", e);
        }
    }

    /** The parsed answer: one score per item, and the optional info to log. */
    record Response(List<ComponentScore> scores, String info) {
    }

    /** @throws BadResponseException naming what is wrong with the body */
    Response parse(byte[] body, int expected) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (java.io.IOException e) {
            throw new BadResponseException("response is not JSON (" + excerpt(body) + "): " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new BadResponseException("response is not a JSON object: " + excerpt(body));
        }
        JsonNode rewards = root.get("rewards");
        if (rewards == null || !rewards.isArray()) {
            throw new BadResponseException("response has no \"rewards\" array: " + excerpt(body));
        }
        if (rewards.size() != expected) {
            throw new BadResponseException("response has " + rewards.size() + " rewards for " + expected + " completions");
        }
        double[] values = numbers("rewards", rewards);
        Map<String, double[]> components = new LinkedHashMap<>();
        JsonNode comps = root.get("components");
        if (comps != null && !comps.isNull()) {
            if (!comps.isObject()) {
                throw new BadResponseException("\"components\" is not an object of arrays");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = comps.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isArray() || e.getValue().size() != expected) {
                    throw new BadResponseException("component \"" + e.getKey() + "\" is not an array of " + expected + " numbers");
                }
                components.put(e.getKey(), numbers("component \"" + e.getKey() + "\"", e.getValue()));
            }
        }
        List<ComponentScore> out = new ArrayList<>(expected);
        for (int i = 0; i < expected; i++) {
            Map<String, Double> parts = new LinkedHashMap<>();
            int idx = i;
            components.forEach((k, v) -> parts.put(k, v[idx]));
            out.add(new ComponentScore(values[i], parts));
        }
        JsonNode info = root.get("info");
        if (info == null) {
            info = root.get("extra_logs");
        }
        return new Response(out, info == null || info.isNull() ? "" : info.toString());
    }

    private static double[] numbers(String what, JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = array.get(i);
            if (!v.isNumber()) {
                throw new BadResponseException(what + "[" + i + "] is " + (v.isNull() ? "null" : v.toString()) + ", not a number");
            }
            double d = v.asDouble();
            if (!Double.isFinite(d)) {
                throw new BadResponseException(what + "[" + i + "] is " + d + ", not a finite number");
            }
            out[i] = d;
        }
        return out;
    }

    static String excerpt(byte[] body) {
        String s = new String(body, 0, Math.min(body.length, 120), java.nio.charset.StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        return "'" + s + (body.length > 120 ? "…" : "") + "'";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** The endpoint answered 2xx with something unusable: the group is dead-lettered with this reason. */
    static final class BadResponseException extends RuntimeException {
        BadResponseException(String message) {
            super(message);
        }
    }
}
