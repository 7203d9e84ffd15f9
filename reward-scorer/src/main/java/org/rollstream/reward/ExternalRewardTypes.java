package org.rollstream.reward;

import java.util.List;
import java.util.Map;

import org.rollstream.reward.http.HttpReward;
import org.rollstream.reward.model.OnnxReward;
import org.rollstream.reward.topic.ComponentJoin;
import org.rollstream.reward.topic.TopicComponent;

/**
 * The kinds of external reward a configuration may name with {@code <name>.type=}:
 * <ul>
 *   <li>{@code http}: batches POSTed to a scorer endpoint ({@link HttpReward});</li>
 *   <li>{@code onnx}: an ONNX sequence-classification reward model ({@link OnnxReward});</li>
 *   <li>{@code topic}: a component produced by an external scorer to {@code rewards.partial} and
 *       joined by group id ({@link TopicComponent}).</li>
 * </ul>
 */
public final class ExternalRewardTypes {
    public static final String TYPE_OPTION = "type";

    private ExternalRewardTypes() {
    }

    public static List<String> types() {
        return List.of(HttpReward.TYPE, OnnxReward.TYPE, TopicComponent.TYPE);
    }

    static boolean isType(String name) {
        return types().contains(name);
    }

    /** @throws IllegalArgumentException for an unknown type or a bad option */
    static GroupRewardFunction create(String type, String name, Map<String, String> options, ComponentJoin join) {
        ExternalOptions o = new ExternalOptions(name, options);
        return switch (type) {
            case HttpReward.TYPE -> HttpReward.create(o);
            case OnnxReward.TYPE -> OnnxReward.create(o);
            case TopicComponent.TYPE -> TopicComponent.create(o, join);
            default -> throw new IllegalArgumentException("reward '" + name + "' has unknown type '" + type + "'; types: " + String.join(", ", types()));
        };
    }
}
