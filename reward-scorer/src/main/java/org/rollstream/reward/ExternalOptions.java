package org.rollstream.reward;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The options of one external reward ({@code judge.url=...} gives {@code url}), read with checks:
 * every read names the reward and the option in its error, and {@link #checkKnown} refuses options
 * the reward does not read, so a typo never passes silently.
 */
public final class ExternalOptions {
    private final String reward;
    private final Map<String, String> options;

    public ExternalOptions(String reward, Map<String, String> options) {
        this.reward = reward;
        this.options = Map.copyOf(options);
    }

    public String reward() {
        return reward;
    }

    /** @throws IllegalArgumentException when it is not given */
    public String required(String key) {
        String v = options.get(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("reward '" + reward + "' needs option " + reward + "." + key);
        }
        return v.strip();
    }

    public String string(String key, String dflt) {
        String v = options.get(key);
        return v == null || v.isBlank() ? dflt : v.strip();
    }

    /** One of {@code allowed} (case-insensitive), returned in lower case. */
    public String choice(String key, String dflt, String... allowed) {
        String v = string(key, dflt).toLowerCase(Locale.ROOT);
        for (String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw new IllegalArgumentException("reward '" + reward + "' option " + key + " must be one of " + String.join(", ", allowed) + ", got " + v);
    }

    public int integer(String key, int dflt, int min) {
        String v = options.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("reward '" + reward + "' option " + key + " must be an integer >= " + min + ", got " + v);
    }

    /** A duration like {@code 500ms}, {@code 5s}, {@code 2m} (a bare number is seconds); positive unless {@code zeroOk}. */
    public Duration duration(String key, Duration dflt, boolean zeroOk) {
        String v = options.get(key);
        if (v == null) {
            return dflt;
        }
        Duration d = parseDuration(v.strip());
        if (d == null || d.isNegative() || (d.isZero() && !zeroOk)) {
            throw new IllegalArgumentException("reward '" + reward + "' option " + key + " must be a " + (zeroOk ? "" : "positive ")
                    + "duration like 500ms, 5s or 2m, got " + v);
        }
        return d;
    }

    static Duration parseDuration(String v) {
        try {
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2).strip()));
            }
            long scale = v.endsWith("s") ? 1000 : v.endsWith("m") ? 60_000 : v.endsWith("h") ? 3_600_000 : -1;
            String num = scale < 0 ? v : v.substring(0, v.length() - 1).strip();
            double x = Double.parseDouble(num);
            return Double.isFinite(x) ? Duration.ofMillis(Math.round(x * (scale < 0 ? 1000 : scale))) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** @throws IllegalArgumentException for an option not in {@code known} */
    public void checkKnown(Set<String> known) {
        for (String k : options.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("reward '" + reward + "' has no option '" + k + "'; it knows " + new TreeSet<>(known));
            }
        }
    }
}
