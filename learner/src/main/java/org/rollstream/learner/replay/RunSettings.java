package org.rollstream.learner.replay;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.rollstream.learner.grpo.Aggregation;
import org.rollstream.learner.grpo.GrpoConfig;

/**
 * The GRPO settings a run trained with, read back from the configuration text every checkpoint records
 * ({@code LearnerConfig.toString()}, which holds {@code GrpoConfig[name=value, ...]}). Doubles there are
 * written with {@link Double#toString}, so the parsed settings are the run's exactly.
 */
public final class RunSettings {
    private static final Pattern GRPO = Pattern.compile("GrpoConfig\\[([^\\]]*)]");

    private RunSettings() {
    }

    /** @throws ReplayException when the text holds no complete GRPO configuration */
    public static GrpoConfig grpo(String configText) {
        Matcher m = configText == null ? null : GRPO.matcher(configText);
        if (m == null || !m.find()) {
            throw new ReplayException("the checkpoint records no GRPO configuration (config: " + configText + ")");
        }
        Map<String, String> f = new HashMap<>();
        for (String kv : m.group(1).split(",\\s*")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                f.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            }
        }
        try {
            return new GrpoConfig(i(f, "groupsPerStep"), i(f, "maxStaleness"), d(f, "clipLow"), d(f, "clipHigh"),
                    d(f, "klBeta"), d(f, "importanceCap"), Aggregation.valueOf(s(f, "aggregation")),
                    Boolean.parseBoolean(s(f, "dynamicSampling")), d(f, "learningRate"), d(f, "weightDecay"),
                    d(f, "maxGradNorm"), i(f, "publishEvery"), i(f, "miniBatches"), i(f, "ppoEpochs"));
        } catch (IllegalArgumentException e) {
            throw new ReplayException("the checkpoint's GRPO configuration cannot be read back: " + e.getMessage());
        }
    }

    private static String s(Map<String, String> f, String k) {
        String v = f.get(k);
        if (v == null) {
            throw new IllegalArgumentException("no " + k);
        }
        return v;
    }

    private static int i(Map<String, String> f, String k) {
        return Integer.parseInt(s(f, k));
    }

    private static double d(Map<String, String> f, String k) {
        return Double.parseDouble(s(f, k));
    }
}
