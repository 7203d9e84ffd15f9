package org.rollstream.launcher.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import org.rollstream.policy.ort.Device;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ort.InGraphSampler;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.ort.OrtLoopGenerator;
import org.rollstream.policy.ort.OrtPolicy;
import org.rollstream.policy.ort.WeightFedSessions;
import org.rollstream.policy.ort.OrtSampler;
import org.rollstream.policy.SampleRequest;
import org.rollstream.policy.SampledCompletion;
import org.rollstream.policy.SamplingParams;
import org.rollstream.policy.Weights;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * {@code rollstream bench generate}: generation throughput (generated tokens per second,
 * prefill included) of the ONNX Runtime sampler against the in-house peer, the same model with
 * the same weights in DJL (PyTorch engine, CPU), decoding with a KV cache. Greedy decoding, no
 * stop tokens, so every row produces exactly {@code newTokens}. One warm-up run each, then the
 * median of {@code runs}.
 */
public final class GenerateBenchmark {

    /** Per-run and median tokens/s; djl is empty when the peer was skipped. */
    public record Result(double[] ort, double[] djl) {
        public double ortMedian() {
            return median(ort);
        }

        public double djlMedian() {
            return djl.length == 0 ? Double.NaN : median(djl);
        }
    }

    private GenerateBenchmark() {
    }

    public static Result run(String preset, int batch, int promptLen, int newTokens, Device device, int runs) {
        return run(ModelSpec.preset(preset), batch, promptLen, newTokens, device, runs, false, runs, System.out);
    }

    /**
     * @param fp16     run ORT in float16 (GPU)
     * @param djlRuns  measured runs of the DJL peer (0 skips it, e.g. on GPU where the peer would run on CPU)
     */
    public static Result run(ModelSpec spec, int batch, int promptLen, int newTokens, Device device, int runs,
                             boolean fp16, int djlRuns, PrintStream out) {
        return run(spec, batch, promptLen, newTokens, device, runs, fp16, false, djlRuns, out);
    }

    /**
     * @param inGraph decode with {@link OrtLoopGenerator} (ONNX Loop, one session run per batch)
     *                instead of the host-driven {@link OrtSampler} loop
     */
    public static Result run(ModelSpec spec, int batch, int promptLen, int newTokens, Device device, int runs,
                             boolean fp16, boolean inGraph, int djlRuns, PrintStream out) {
        return run(spec, batch, promptLen, newTokens, device, runs, fp16, inGraph, false, djlRuns, out);
    }

    /**
     * @param fused with {@code inGraph}: the GENERATE_FUSED graph (ONNX Runtime's fused Attention,
     *              few nodes per decoding step)
     */
    public static Result run(ModelSpec spec, int batch, int promptLen, int newTokens, Device device, int runs,
                             boolean fp16, boolean inGraph, boolean fused, int djlRuns, PrintStream out) {
        if (promptLen + newTokens > spec.contextLength()) {
            throw new IllegalArgumentException("prompt " + promptLen + " + new " + newTokens + " exceeds context " + spec.contextLength());
        }
        Weights w = DjlPolicy.initialWeights(spec, 1);
        List<int[]> prompts = randomPrompts(spec, batch, promptLen);
        long gen = (long) batch * newTokens;
        out.printf("bench generate: spec=%s params=%,d batch=%d prompt=%d new=%d device=%s fp16=%s loop=%s%n",
                spec.toJson(), spec.parameterCount(), batch, promptLen, newTokens, device, fp16, loopName(inGraph, fused));

        double[] ort = new double[runs];
        try (OrtPolicy policy = OrtPolicy.create(spec, w, device, fp16, 0)) {
            OrtSampler sampler = new OrtSampler(policy);
            OrtLoopGenerator loop = new OrtLoopGenerator(policy, null, fused);
            SamplingParams params = SamplingParams.of(0f, newTokens, 1);
            Runnable once = inGraph ? () -> loop.generate(prompts, 1, newTokens, null) : () -> sampler.sample(prompts, 1, params);
            long w0 = System.nanoTime();
            once.run(); // warm-up (session creation excluded, first-run allocations included)
            out.printf("  ort  warm-up: %.2f s%n", (System.nanoTime() - w0) / 1e9);
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                once.run();
                ort[i] = gen / ((System.nanoTime() - t0) / 1e9);
                out.printf("  ort  run %d: %,.1f tokens/s%n", i + 1, ort[i]);
            }
        }
        double[] djl = new double[djlRuns];
        if (djlRuns > 0) {
            try (NDManager m = NDManager.newBaseManager("PyTorch")) {
                DjlPolicy p = new DjlPolicy(spec, m, w);
                int[][] toks = prompts.toArray(new int[0][]);
                djlGenerate(p, toks, newTokens); // warm-up
                for (int i = 0; i < djlRuns; i++) {
                    long t0 = System.nanoTime();
                    djlGenerate(p, toks, newTokens);
                    djl[i] = gen / ((System.nanoTime() - t0) / 1e9);
                    out.printf("  djl  run %d: %,.1f tokens/s%n", i + 1, djl[i]);
                }
            }
        }
        Result res = new Result(ort, djl);
        out.printf("ort (ONNX Runtime, KV cache, %s%s, %s loop): median %,.1f tokens/s%n", device, fp16 ? ", fp16" : ", fp32",
                loopName(inGraph, fused), res.ortMedian());
        if (djlRuns > 0) {
            out.printf("djl (DJL PyTorch CPU, KV cache, fp32):   median %,.1f tokens/s%n", res.djlMedian());
            out.printf("ratio ort/djl: %.2fx%n", res.ortMedian() / res.djlMedian());
        } else {
            out.println("djl peer skipped");
        }
        return res;
    }

    /** One sampling setting of {@link #runSampling}: its label, per-run tokens/s, and the share of steps whose nucleus the cap bound. */
    public record SampleResult(String label, double[] tokensPerSecond, double limitedShare) {
        public double median() {
            return GenerateBenchmark.median(tokensPerSecond);
        }
    }

    /**
     * {@code rollstream bench generate --sample}: in-graph greedy decoding, then in-graph sampling
     * ({@link InGraphSampler}) at {@code temperature} with each of {@code topPs}, in one session
     * on the same weights and prompts, no stop tokens (every row generates {@code newTokens}). Each
     * setting: one warm-up (its graph's session is created there), then the median of
     * {@code runs}; each line prints its ratio to greedy.
     *
     * @param fused the GENERATE_FUSED / FUSED_SAMPLE* graphs (fast on GPU) rather than the plain ones
     * @return greedy first, then one result per top-p
     */
    public static List<SampleResult> runSampling(ModelSpec spec, int batch, int promptLen, int newTokens, Device device, int runs,
                                                 boolean fp16, boolean fused, float temperature, float[] topPs, int topK,
                                                 int nucleusCap, PrintStream out) {
        return runSampling(spec, batch, promptLen, newTokens, device, runs, fp16, fused, temperature, topPs, topK, nucleusCap, false, false, out);
    }

    /**
     * @param host         also time the host-driven loop ({@link OrtSampler}, the reference implementation) at each top-p
     *                     (top-k 0 only: it has no top-k)
     * @param weightInputs also time each top-p on a shared session fed the weights as inputs ({@link WeightFedSessions},
     *                     as {@code actor --sampler-weights inputs}), each run copying them to the device
     */
    public static List<SampleResult> runSampling(ModelSpec spec, int batch, int promptLen, int newTokens, Device device, int runs,
                                                 boolean fp16, boolean fused, float temperature, float[] topPs, int topK,
                                                 int nucleusCap, boolean host, boolean weightInputs, PrintStream out) {
        if (promptLen + newTokens > spec.contextLength()) {
            throw new IllegalArgumentException("prompt " + promptLen + " + new " + newTokens + " exceeds context " + spec.contextLength());
        }
        Weights w = DjlPolicy.initialWeights(spec, 1);
        List<int[]> prompts = randomPrompts(spec, batch, promptLen);
        long gen = (long) batch * newTokens;
        out.printf("bench generate --sample: spec=%s params=%,d batch=%d prompt=%d new=%d device=%s fp16=%s loop=%s%n",
                spec.toJson(), spec.parameterCount(), batch, promptLen, newTokens, device, fp16, loopName(true, fused));
        List<SampleResult> results = new ArrayList<>();
        try (OrtPolicy policy = OrtPolicy.create(spec, w, device, fp16, 0);
             WeightFedSessions shared = weightInputs ? new WeightFedSessions(spec, device, fp16, 0) : null;
             OrtPolicy fedPolicy = weightInputs ? OrtPolicy.createWithoutSessions(spec, w, device, fp16, 0, shared) : null) {
            OrtLoopGenerator greedy = new OrtLoopGenerator(policy, null, fused);
            InGraphSampler sampler = new InGraphSampler(policy, fused);
            results.add(measure("greedy", () -> {
                greedy.generate(prompts, 1, newTokens, new int[]{-1});
                return 0.0;
            }, runs, gen, out));
            for (int i = 0; i < topPs.length; i++) {
                SampleRequest req = SampleRequest.of(prompts, 1, temperature, topPs[i], topK, 17 + i, newTokens).withNucleusCap(nucleusCap);
                String label = String.format("sample T=%s top-p=%s%s", temperature, topPs[i], topK > 0 ? " top-k=" + topK : "");
                double[] sums = new double[3]; // of the last run: behaviour and policy log-probs, non-finite or positive ones
                results.add(measure(label, () -> {
                    long limited = 0;
                    Arrays.fill(sums, 0);
                    for (List<SampledCompletion> g : sampler.sample(req)) {
                        for (SampledCompletion c : g) {
                            limited += c.nucleusLimitedSteps();
                            for (int k = 0; k < c.length(); k++) {
                                sums[0] += c.logProbs()[k];
                                sums[1] += c.policyLogProbs()[k];
                                if (!(c.logProbs()[k] <= 1e-3f) || !(c.policyLogProbs()[k] <= 1e-3f)) sums[2]++;
                            }
                        }
                    }
                    return (double) limited / gen;
                }, runs, gen, out));
                out.printf("  %s: mean behaviour log-prob %.3f, mean policy log-prob %.3f, invalid %d (last run)%n",
                        label, sums[0] / gen, sums[1] / gen, (long) sums[2]);
                if (fedPolicy != null) {
                    InGraphSampler fed = new InGraphSampler(fedPolicy, fused);
                    results.add(measure(label + " weights as inputs", () -> {
                        fed.sample(req);
                        return 0.0;
                    }, runs, gen, out));
                }
                if (host && topK == 0) {
                    OrtSampler reference = new OrtSampler(policy);
                    SamplingParams params = new SamplingParams(temperature, topPs[i], newTokens, null, 17 + i);
                    results.add(measure(String.format("host loop T=%s top-p=%s", temperature, topPs[i]), () -> {
                        reference.sample(prompts, 1, params);
                        return 0.0;
                    }, runs, gen, out));
                }
            }
        }
        double base = results.get(0).median();
        out.println("summary (median tokens/s, ratio to greedy):");
        for (SampleResult r : results) {
            out.printf("  %-34s %,12.1f  %5.1f%%%s%n", r.label(), r.median(), 100 * r.median() / base,
                    r.limitedShare() > 0 ? String.format("  (nucleus cut by the cap of %d at %.0f%% of steps)", nucleusCap, 100 * r.limitedShare()) : "");
        }
        return results;
    }

    private static SampleResult measure(String label, java.util.function.Supplier<Double> once, int runs, long gen, PrintStream out) {
        long w0 = System.nanoTime();
        once.get(); // warm-up: session creation and first-run allocations
        out.printf("  %s warm-up: %.2f s%n", label, (System.nanoTime() - w0) / 1e9);
        double[] tps = new double[runs];
        double limited = 0;
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            limited = once.get();
            tps[i] = gen / ((System.nanoTime() - t0) / 1e9);
            out.printf("  %s run %d: %,.1f tokens/s%n", label, i + 1, tps[i]);
        }
        return new SampleResult(label, tps, limited);
    }

    private static List<int[]> randomPrompts(ModelSpec spec, int batch, int promptLen) {
        Random r = new Random(3);
        List<int[]> prompts = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            int[] p = new int[promptLen];
            for (int j = 0; j < promptLen; j++) p[j] = r.nextInt(spec.vocabSize());
            prompts.add(p);
        }
        return prompts;
    }

    /**
     * Greedy tokens of the GENERATE and GENERATE_FUSED graphs on the same prompts: prints the
     * fraction of rows whose generations agree up to each row's first difference, and the largest
     * log-prob gap before it (fp16 on GPU may flip near-ties, after which rows diverge).
     */
    public static double compareLoops(ModelSpec spec, int batch, int promptLen, int newTokens, Device device, boolean fp16, PrintStream out) {
        Weights w = DjlPolicy.initialWeights(spec, 1);
        Random r = new Random(3);
        List<int[]> prompts = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            int[] p = new int[promptLen - (b % 3)]; // ragged: exercises left padding
            for (int j = 0; j < p.length; j++) p[j] = r.nextInt(spec.vocabSize());
            prompts.add(p);
        }
        try (OrtPolicy policy = OrtPolicy.create(spec, w, device, fp16, 0)) {
            var a = new OrtLoopGenerator(policy, null, false).generate(prompts, 1, newTokens, null);
            var f = new OrtLoopGenerator(policy, null, true).generate(prompts, 1, newTokens, null);
            long same = 0, total = 0, fullRows = 0;
            double gap = 0;
            for (int i = 0; i < batch; i++) {
                int[] x = a.get(i).get(0).tokenIds(), y = f.get(i).get(0).tokenIds();
                int k = 0;
                while (k < x.length && x[k] == y[k]) {
                    gap = Math.max(gap, Math.abs(a.get(i).get(0).policyLogProbs()[k] - f.get(i).get(0).policyLogProbs()[k]));
                    k++;
                }
                same += k;
                total += x.length;
                if (k == x.length) fullRows++;
            }
            double frac = (double) same / total;
            out.printf("compare GENERATE vs GENERATE_FUSED: rows identical %d/%d, tokens before first difference %.4f, max log-prob gap there %.4g%n",
                    fullRows, batch, frac, gap);
            return frac;
        }
    }

    private static String loopName(boolean inGraph, boolean fused) {
        return !inGraph ? "host" : fused ? "in-graph fused" : "in-graph";
    }

    /** Greedy generation with the DJL model and its KV cache; returns the generated ids. */
    static int[][] djlGenerate(DjlPolicy p, int[][] prompts, int newTokens) {
        NDManager root = p.manager();
        int b = prompts.length;
        int[][] outIds = new int[b][newTokens];
        NDManager cacheMgr = root.newSubManager();
        DjlPolicy.KvCache past = null;
        NDArray input = cacheMgr.create(prompts);
        for (int step = 0; step < newTokens; step++) {
            NDManager stepMgr = root.newSubManager();
            input.attach(stepMgr);
            DjlPolicy.KvCache present = new DjlPolicy.KvCache(new ArrayList<>(), new ArrayList<>());
            NDArray logits = p.forwardWithCache(input, past, present);
            NDArray next = logits.get(new NDIndex(":, -1, :")).argMax(-1).toType(DataType.INT64, false);
            long[] ids = next.toLongArray();
            for (int i = 0; i < b; i++) outIds[i][step] = (int) ids[i];
            NDManager newCache = root.newSubManager();
            present.keys().forEach(a -> a.attach(newCache));
            present.values().forEach(a -> a.attach(newCache));
            input = next.reshape(b, 1);
            input.attach(newCache);
            cacheMgr.close();
            stepMgr.close();
            cacheMgr = newCache;
            past = present;
        }
        cacheMgr.close();
        return outIds;
    }

    /** "1,0.9" -> {1, 0.9}; each in (0,1]. */
    public static float[] parseTopPs(String list) {
        String[] parts = list.split(",");
        float[] p = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            p[i] = Float.parseFloat(parts[i].trim());
            if (!(p[i] > 0 && p[i] <= 1)) throw new IllegalArgumentException("top-p must be in (0,1]: " + parts[i]);
        }
        return p;
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * {@code --preset tiny --batch 8 --prompt 16 --new 64 --device cpu --runs 5 [--fp16] [--in-graph] [--fused] [--djl-runs N]
     * [--sample [--host] [--temperature T] [--top-p P[,P...]] [--top-k K] [--nucleus-cap N]]}
     */
    public static void main(String[] args) {
        String preset = "tiny", device = "cpu", topPs = "1,0.9";
        int batch = 8, prompt = 16, newTokens = 64, runs = 5, djlRuns = -1, topK = 0, cap = SampleRequest.DEFAULT_NUCLEUS_CAP;
        float temperature = 1f;
        boolean fp16 = false, inGraph = false, fused = false, compare = false, sample = false, host = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--preset" -> preset = args[++i];
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--prompt" -> prompt = Integer.parseInt(args[++i]);
                case "--new" -> newTokens = Integer.parseInt(args[++i]);
                case "--device" -> device = args[++i];
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--djl-runs" -> djlRuns = Integer.parseInt(args[++i]);
                case "--fp16" -> fp16 = true;
                case "--in-graph" -> inGraph = true;
                case "--compare" -> compare = true;
                case "--sample" -> sample = true;
                case "--host" -> host = true;
                case "--temperature" -> temperature = Float.parseFloat(args[++i]);
                case "--top-p" -> topPs = args[++i];
                case "--top-k" -> topK = Integer.parseInt(args[++i]);
                case "--nucleus-cap" -> cap = Integer.parseInt(args[++i]);
                case "--fused" -> {
                    inGraph = true;
                    fused = true;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (use --preset --batch --prompt --new --device --runs --djl-runs --fp16 --in-graph --fused --compare"
                        + " --sample --host --temperature --top-p --top-k --nucleus-cap)");
            }
        }
        if (sample) {
            runSampling(ModelSpec.preset(preset), batch, prompt, newTokens, Device.parse(device), runs, fp16, fused, temperature,
                    parseTopPs(topPs), topK, cap, host, false, System.out);
            return;
        }
        if (compare) {
            compareLoops(ModelSpec.preset(preset), batch, prompt, newTokens, Device.parse(device), fp16, System.out);
            return;
        }
        run(ModelSpec.preset(preset), batch, prompt, newTokens, Device.parse(device), runs, fp16, inGraph, fused, djlRuns < 0 ? runs : djlRuns, System.out);
    }
}
