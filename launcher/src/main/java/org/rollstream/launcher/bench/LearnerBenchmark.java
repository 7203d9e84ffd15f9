package org.rollstream.launcher.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.cuda.CudaUtils;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.rollstream.learner.grpo.Aggregation;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.learner.grpo.GrpoTrainer;
import org.rollstream.learner.grpo.TrainingGroup;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.learner.optim.LossScale;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.djl.ComputePrecision;
import org.rollstream.policy.djl.DjlPolicy;

/**
 * {@code rollstream bench learner}: time and peak memory of full GRPO steps (policy and frozen
 * reference, proximal and reference log-probs, clipped surrogate with truncated importance weight,
 * k3 KL, gradient clipping, AdamW) on random token sequences of a fixed shape, so the learner can
 * be measured at any model size without data or a tokenizer.
 *
 * <p>Memory is sampled every 2 ms by a watcher thread while the steps run: on the CPU the
 * process's resident set (/proc/self/status VmRSS; PyTorch's CPU tensors are native memory the
 * JVM does not see), on CUDA the device memory in use from {@code cudaMemGetInfo} (all of the
 * device: CUDA context and PyTorch's cached blocks included, so it corresponds to PyTorch's
 * reserved memory plus the context, not {@code max_memory_allocated}; DJL exposes no allocator
 * statistics). The "before" path is the forward as it was before the memory work
 * ({@link DjlPolicy#legacyForward(boolean)}: nothing released early, fp32, one pass per mini-batch).
 *
 * <p>With fp16 the trainer runs as the learner does: forwards on fp16 copies of the fp32 master
 * weights, their gradients moved into fp32 for clipping and AdamW, dynamic loss scale (2¹⁶ start).
 */
public final class LearnerBenchmark {
    private LearnerBenchmark() {
    }

    /** What to run. */
    public record Setup(ModelSpec spec, int batch, int seq, int groupSize, int promptTokens, Device device,
                        ComputePrecision precision, int microBatchSize, int steps, int warmup, long seed) {
    }

    /**
     * One path's figures.
     *
     * @param stepMillis  every measured step's wall time
     * @param peakBytes   largest memory figure seen while the steps ran (see the class comment); -1 if unknown
     * @param startBytes  the same figure just before the first warm-up step
     * @param failure     why the path stopped (e.g. out of memory), or null
     */
    public record Result(String path, double[] stepMillis, long peakBytes, long startBytes, String failure) {
        public double median() {
            if (stepMillis.length == 0) {
                return Double.NaN;
            }
            double[] s = stepMillis.clone();
            Arrays.sort(s);
            int n = s.length;
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        public double min() {
            return Arrays.stream(stepMillis).min().orElse(Double.NaN);
        }
    }

    /** Random groups of the benchmark's shape: every sequence exactly {@code seq} tokens. */
    static List<TrainingGroup> groups(Setup s, Random r) {
        int vocab = s.spec().vocabSize();
        int completionTokens = s.seq() - s.promptTokens();
        List<TrainingGroup> out = new ArrayList<>();
        for (int g = 0; g < s.batch() / s.groupSize(); g++) {
            int[] prompt = r.ints(s.promptTokens(), 0, vocab).toArray();
            List<int[]> completions = new ArrayList<>();
            List<float[]> behaviour = new ArrayList<>();
            double[] rewards = new double[s.groupSize()];
            double[] advantages = new double[s.groupSize()];
            for (int i = 0; i < s.groupSize(); i++) {
                completions.add(r.ints(completionTokens, 0, vocab).toArray());
                float[] lp = new float[completionTokens];
                for (int j = 0; j < lp.length; j++) {
                    lp[j] = (float) (-Math.log(vocab) + 0.05 * r.nextGaussian());
                }
                behaviour.add(lp);
                rewards[i] = i % 2;
                advantages[i] = i % 2 == 0 ? -1 : 1;
            }
            out.add(new TrainingGroup("bench-" + g, 0, prompt, completions, behaviour, rewards, advantages));
        }
        return out;
    }

    /**
     * Runs one path; {@code before} selects the pre-memory-work forward. The path is named
     * {@code before}, {@code after} (fp32) or after its precision ({@code fp16}). Never throws for
     * out-of-memory: reports it.
     */
    public static Result run(Setup s, boolean before, PrintStream out) {
        return run(s, before, before ? "before" : s.precision().reduced() ? s.precision().toString() : "after", out);
    }

    /** As {@link #run(Setup, boolean, PrintStream)}, naming the path {@code path}. */
    public static Result run(Setup s, boolean before, String path, PrintStream out) {
        releaseCachedDeviceMemory(s.device());
        MemoryWatcher watcher = new MemoryWatcher(s.device());
        List<Double> times = new ArrayList<>();
        String failure = null;
        try (NDManager nd = NDManager.newBaseManager(s.device())) {
            DjlPolicy policy = new DjlPolicy(s.spec(), nd, s.seed());
            DjlPolicy reference = new DjlPolicy(s.spec(), nd, policy.exportWeights());
            if (before) {
                policy.legacyForward(true);
                reference.legacyForward(true);
            } else {
                policy.computePrecision(s.precision());
                reference.computePrecision(s.precision());
            }
            GrpoConfig cfg = GrpoConfig.builder().groupsPerStep(s.batch() / s.groupSize()).maxStaleness(0)
                    .klBeta(0.005).importanceCap(2.0).aggregation(Aggregation.TOKEN_MEAN).learningRate(1e-5)
                    .maxGradNorm(1.0).build();
            GrpoTrainer trainer = new GrpoTrainer(policy, reference, AdamW.standard(nd, 0), cfg, 0)
                    .microBatchSize(before ? 0 : s.microBatchSize())
                    .lossScale(!before && s.precision().reduced() ? LossScale.dynamic() : LossScale.none());
            Random r = new Random(s.seed());
            watcher.start();
            for (int i = 0; i < s.warmup() + s.steps(); i++) {
                List<TrainingGroup> groups = groups(s, r);
                long t0 = System.nanoTime();
                trainer.step(groups); // ends with host reads of the statistics, so device work is done
                double ms = (System.nanoTime() - t0) / 1e6;
                boolean warm = i < s.warmup();
                out.printf("  %s step %d%s: %.1f ms%n", path, i + 1, warm ? " (warm-up)" : "", ms);
                if (!warm) {
                    times.add(ms);
                }
            }
            if (trainer.skippedSteps() > 0) { // fp16: the dynamic loss scale backs off by skipping overflowed updates
                out.printf("  %s: %d updates skipped (gradient not finite)%n", path, trainer.skippedSteps());
            }
        } catch (RuntimeException e) {
            failure = e.getClass().getSimpleName() + ": " + firstLine(e.getMessage());
            out.println("  " + path + " stopped: " + failure);
        } finally {
            watcher.stop();
        }
        releaseCachedDeviceMemory(s.device());
        return new Result(path, times.stream().mapToDouble(Double::doubleValue).toArray(), watcher.peak(), watcher.start,
                failure);
    }

    /** The results table; tokens/s counts every token of every sequence (prompt and completion). */
    public static void print(Setup s, List<Result> results, PrintStream out) {
        String memory = s.device().isGpu() ? "peak device memory in use (cudaMemGetInfo)" : "peak RSS (VmRSS)";
        out.printf("%-7s %10s %10s %12s %14s %14s%n", "path", "median ms", "min ms", "tokens/s", "peak GiB", "growth GiB");
        for (Result r : results) {
            double tps = (double) s.batch() * s.seq() / (r.median() / 1e3);
            out.printf("%-7s %10.1f %10.1f %12.0f %14s %14s%s%n", r.path(), r.median(), r.min(), tps, gib(r.peakBytes()),
                    r.peakBytes() < 0 || r.startBytes() < 0 ? "n/a" : gib(r.peakBytes() - r.startBytes()),
                    r.failure() == null ? "" : "  (" + r.failure() + ")");
        }
        out.println("memory: " + memory + "; growth = peak minus the figure before the first step (model, reference and "
                + "start-up excluded)" + (s.device().isGpu() ? "" : "; on CUDA read the same columns from cudaMemGetInfo"));
        if (results.size() == 2 && results.get(0).failure() == null && results.get(1).failure() == null) {
            Result after = results.get(0);
            Result before = results.get(1);
            out.printf("%s/%s: step time %.2f×, peak %.2f×, growth %.2f×%n", before.path(), after.path(),
                    before.median() / after.median(),
                    (double) before.peakBytes() / after.peakBytes(),
                    (double) (before.peakBytes() - before.startBytes()) / Math.max(1, after.peakBytes() - after.startBytes()));
        }
    }

    private static String gib(long bytes) {
        return bytes < 0 ? "n/a" : String.format("%.2f", bytes / (double) (1L << 30));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static void releaseCachedDeviceMemory(Device d) {
        if (d.isGpu()) {
            JniUtils.emptyCudaCache();
        }
    }

    /** Samples the memory figure every 2 ms on a daemon thread and keeps the largest. */
    private static final class MemoryWatcher {
        private final Device device;
        private final AtomicLong peak = new AtomicLong(-1);
        private volatile boolean running;
        private Thread thread;
        long start = -1;

        MemoryWatcher(Device device) {
            this.device = device;
        }

        void start() {
            start = read();
            peak.set(start);
            running = true;
            thread = new Thread(() -> {
                while (running) {
                    long v = read();
                    peak.accumulateAndGet(v, Math::max);
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "learner-bench-memory");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() {
            running = false;
            if (thread != null) {
                try {
                    thread.join(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                peak.accumulateAndGet(read(), Math::max);
            }
        }

        long peak() {
            return peak.get();
        }

        private long read() {
            if (device.isGpu()) {
                try {
                    MemoryUsage u = CudaUtils.getGpuMemory(device);
                    return u.getCommitted();
                } catch (RuntimeException | LinkageError e) {
                    return -1;
                }
            }
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            } catch (IOException | NumberFormatException e) {
                return -1;
            }
            return -1;
        }
    }
}
