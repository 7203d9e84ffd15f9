package org.rollstream.reward;

import java.util.Collections;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The reward functions on the class path, found with {@link ServiceLoader}; the built-ins are registered there too. */
public final class RewardFunctions {

    private RewardFunctions() {
    }

    public static Map<String, RewardFunction> discover() {
        return discover(Thread.currentThread().getContextClassLoader());
    }

    /** @throws IllegalStateException when two functions claim the same name */
    public static Map<String, RewardFunction> discover(ClassLoader loader) {
        Map<String, RewardFunction> out = new TreeMap<>();
        for (RewardFunction f : ServiceLoader.load(RewardFunction.class, loader)) {
            RewardFunction previous = out.put(f.name(), f);
            if (previous != null && previous.getClass() != f.getClass()) {
                throw new IllegalStateException("two reward functions named '" + f.name() + "': "
                        + previous.getClass().getName() + " and " + f.getClass().getName());
            }
        }
        return Collections.unmodifiableMap(out);
    }
}
