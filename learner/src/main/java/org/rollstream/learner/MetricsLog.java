package org.rollstream.learner;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.rollstream.schemas.records.MetricEvent;

/**
 * The learner's measurements: appended to {@code metrics.csv} in long format
 * ({@code step,kind,name,value,timestamp_ms}, one value per line, so new metrics never change the
 * header), kept in memory for the report, and handed to a listener (the {@code metrics} topic).
 */
public final class MetricsLog implements AutoCloseable {
    public static final String HEADER = "step,kind,name,value,timestamp_ms";

    private final BufferedWriter csv;
    private final List<MetricEvent> events = new ArrayList<>();
    private final Consumer<MetricEvent> listener;
    private final String instance;

    /**
     * Opens {@code csvFile} for a run that resumes after step {@code keepUpToStep}: rows of later steps (a
     * crashed incarnation's, which the resume trains again) are removed and the rest are loaded, so the
     * report covers the whole run. {@code keepUpToStep} −1 starts the file afresh.
     */
    public static MetricsLog open(Path csvFile, String instance, Consumer<MetricEvent> listener, long keepUpToStep) {
        List<MetricEvent> kept = new ArrayList<>();
        try {
            if (Files.exists(csvFile)) {
                List<String> lines = Files.readAllLines(csvFile, StandardCharsets.UTF_8);
                List<String> keep = new ArrayList<>();
                keep.add(HEADER);
                Map<String, MetricEvent> byKey = new LinkedHashMap<>();
                for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                    String[] f = line.split(",");
                    if (keepUpToStep < 0 || f.length != 5) {
                        continue;
                    }
                    long step = Long.parseLong(f[0]);
                    // cold-start rows count SFT steps, not GRPO steps: kept with any resume
                    if (!"sft".equals(f[1]) && step > keepUpToStep) {
                        continue;
                    }
                    keep.add(line);
                    MetricEvent e = byKey.computeIfAbsent(f[0] + "," + f[1] + "," + f[4], k -> MetricEvent.newBuilder()
                            .setRole("learner").setInstance(instance).setKind(f[1]).setStep(step)
                            .setTimestampMs(Long.parseLong(f[4])).setValues(new TreeMap<>()).build());
                    e.getValues().put(f[2], Double.parseDouble(f[3]));
                }
                Files.write(csvFile, keep, StandardCharsets.UTF_8);
                kept.addAll(byKey.values());
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot resume metrics file " + csvFile + ": " + e, e);
        }
        MetricsLog log = new MetricsLog(csvFile, instance, listener);
        log.events.addAll(kept);
        return log;
    }

    public MetricsLog(Path csvFile, String instance, Consumer<MetricEvent> listener) {
        this.instance = instance;
        this.listener = listener;
        try {
            Files.createDirectories(csvFile.toAbsolutePath().getParent());
            boolean fresh = !Files.exists(csvFile) || Files.size(csvFile) == 0;
            this.csv = Files.newBufferedWriter(csvFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            if (fresh) {
                csv.write(HEADER);
                csv.newLine();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open metrics file " + csvFile, e);
        }
    }

    public synchronized MetricEvent record(String kind, long step, Map<String, Double> values) {
        long now = System.currentTimeMillis();
        MetricEvent e = MetricEvent.newBuilder().setRole("learner").setInstance(instance).setKind(kind).setStep(step)
                .setTimestampMs(now).setValues(new TreeMap<>(values)).build();
        events.add(e);
        try {
            for (Map.Entry<String, Double> v : e.getValues().entrySet()) {
                csv.write(String.format(Locale.ROOT, "%d,%s,%s,%s,%d", step, kind, v.getKey(), v.getValue(), now));
                csv.newLine();
            }
            csv.flush();
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write metrics", ex);
        }
        if (listener != null) {
            listener.accept(e);
        }
        return e;
    }

    public synchronized List<MetricEvent> events() {
        return List.copyOf(events);
    }

    @Override
    public synchronized void close() {
        try {
            csv.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
