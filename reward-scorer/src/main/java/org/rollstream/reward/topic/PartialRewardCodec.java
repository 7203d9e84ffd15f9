package org.rollstream.reward.topic;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.rollstream.schemas.records.PartialReward;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.errors.BadRecordException;

/**
 * Reads and writes values of {@code rewards.partial}. Two encodings are accepted on the topic:
 * <ul>
 *   <li>Avro single-object encoding of {@code PartialReward} (starts with bytes {@code C3 01});</li>
 *   <li>the JSON variant, for clients without Avro (starts with <code>{</code>):
 *       <pre>{@code {"group_id": "g-17", "component": "judge", "rewards": [1.0, 0.0, ...],
 *  "parts": {"style": [0.5, ...]}, "error": "", "scorer": "my-judge 0.3"}}</pre>
 *       {@code parts}, {@code error} and {@code scorer} are optional; with {@code error} set,
 *       {@code rewards} may be omitted.</li>
 * </ul>
 * Thread-safe.
 */
public final class PartialRewardCodec {
    private static final AvroCodec<PartialReward> AVRO = AvroCodec.of(PartialReward.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS);

    private PartialRewardCodec() {
    }

    /** @throws BadRecordException when the value is neither encoding, or misses a required field */
    public static PartialScore decode(byte[] value) {
        if (value == null || value.length == 0) {
            throw new BadRecordException("empty partial reward");
        }
        int first = 0;
        while (first < value.length && Character.isWhitespace(value[first])) {
            first++;
        }
        try {
            if (first < value.length && value[first] == '{') {
                return fromJson(value);
            }
            PartialReward r = AVRO.decode(value);
            Map<String, List<Double>> parts = new LinkedHashMap<>();
            r.getParts().forEach((k, v) -> parts.put(k.toString(), v));
            return new PartialScore(r.getGroupId(), r.getComponent(), r.getRewards(), parts, r.getError(), r.getScorer());
        } catch (IllegalArgumentException e) {
            throw new BadRecordException(e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new BadRecordException("not a PartialReward (Avro) nor its JSON variant: " + e.getMessage(), e);
        }
    }

    private static PartialScore fromJson(byte[] value) {
        JsonNode n;
        try {
            n = JSON.readTree(value);
        } catch (IOException e) {
            throw new BadRecordException("partial reward is not JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (!n.isObject()) {
            throw new BadRecordException("partial reward JSON is not an object");
        }
        List<Double> rewards = numbers(n.get("rewards"), "rewards");
        Map<String, List<Double>> parts = new LinkedHashMap<>();
        JsonNode p = n.has("parts") ? n.get("parts") : n.get("components");
        if (p != null && p.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                parts.put(e.getKey(), numbers(e.getValue(), "parts." + e.getKey()));
            }
        }
        return new PartialScore(text(n, "group_id"), text(n, "component"), rewards, parts, text(n, "error"), text(n, "scorer"));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? "" : v.asText();
    }

    private static List<Double> numbers(JsonNode array, String what) {
        List<Double> out = new ArrayList<>();
        if (array == null || array.isNull()) {
            return out;
        }
        if (!array.isArray()) {
            throw new BadRecordException("partial reward field " + what + " is not an array");
        }
        for (JsonNode v : array) {
            if (!v.isNumber()) {
                throw new BadRecordException("partial reward field " + what + " holds " + v + ", not a number");
            }
            out.add(v.asDouble());
        }
        return out;
    }

    /** The Avro single-object encoding. */
    public static byte[] encodeAvro(PartialScore p) {
        return AVRO.encode(PartialReward.newBuilder().setGroupId(p.groupId()).setComponent(p.component())
                .setRewards(new ArrayList<>(p.rewards())).setParts(new LinkedHashMap<>(p.parts()))
                .setError(p.error()).setScorer(p.scorer()).setCreatedAtMs(System.currentTimeMillis()).build());
    }

    /** The JSON variant, one line. */
    public static byte[] encodeJson(PartialScore p) {
        ObjectNode n = JSON.createObjectNode().put("group_id", p.groupId()).put("component", p.component());
        p.rewards().forEach(n.putArray("rewards")::add);
        if (!p.parts().isEmpty()) {
            ObjectNode parts = n.putObject("parts");
            p.parts().forEach((k, v) -> v.forEach(parts.putArray(k)::add));
        }
        if (p.failed()) {
            n.put("error", p.error());
        }
        if (!p.scorer().isEmpty()) {
            n.put("scorer", p.scorer());
        }
        return n.toString().getBytes(StandardCharsets.UTF_8);
    }
}
