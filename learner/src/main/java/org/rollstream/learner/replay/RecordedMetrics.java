package org.rollstream.learner.replay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code train} rows of a run's {@code metrics.csv} (long format {@code step,kind,name,value,timestamp_ms}).
 * Values are written with {@link Double#toString}, which round-trips, so they compare bit for bit. A resumed
 * run has already removed the rows of steps it trained again, so each step has one value per name; if a file
 * still holds two, the later one wins (it is the surviving incarnation's).
 */
public final class RecordedMetrics {
    private final Map<Long, Map<String, Double>> train;

    private RecordedMetrics(Map<Long, Map<String, Double>> train) {
        this.train = train;
    }

    /** An absent file gives no values (every comparison then reports "not recorded"). */
    public static RecordedMetrics read(Path csv) {
        Map<Long, Map<String, Double>> train = new HashMap<>();
        if (!Files.exists(csv)) {
            return new RecordedMetrics(train);
        }
        try {
            List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.split(",");
                if (f.length != 5 || !"train".equals(f[1])) {
                    continue;
                }
                train.computeIfAbsent(Long.parseLong(f[0]), k -> new HashMap<>()).put(f[2], Double.parseDouble(f[3]));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + csv, e);
        } catch (NumberFormatException e) {
            throw new ReplayException(csv + " is not a Rollstream metrics file: " + e.getMessage());
        }
        return new RecordedMetrics(train);
    }

    /** The recorded value, or NaN when the run recorded none. */
    public double value(long step, String name) {
        Map<String, Double> m = train.get(step);
        Double v = m == null ? null : m.get(name);
        return v == null ? Double.NaN : v;
    }

    public boolean has(long step) {
        return train.containsKey(step);
    }
}
