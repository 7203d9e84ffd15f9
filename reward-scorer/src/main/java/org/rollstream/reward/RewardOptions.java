package org.rollstream.reward;

import java.util.Map;

/** Checks of the options a configuration passes to a reward function. */
final class RewardOptions {
    private RewardOptions() {
    }

    /** Refuses any option but {@code known}, naming the reward and the option it does know. */
    static void onlyKnown(String reward, Map<String, String> options, String known) {
        for (String k : options.keySet()) {
            if (!k.equals(known)) {
                throw new IllegalArgumentException("reward '" + reward + "' knows option '" + known + "', not '" + k + "'");
            }
        }
    }
}
