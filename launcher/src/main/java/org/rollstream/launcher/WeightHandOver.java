package org.rollstream.launcher;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import ai.djl.ndarray.NDManager;
import org.rollstream.learner.LearnerDevice;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ort.Device;
import org.rollstream.policy.HalfWeights;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.ort.InGraphSampler;
import org.rollstream.policy.ort.OrtPolicy;
import org.rollstream.policy.ort.WeightFedSessions;
import org.rollstream.policy.SafetensorsFile;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.schemas.Topics;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.TopicAdmin;
import org.rollstream.transport.weights.KafkaWeightStore;
import org.rollstream.transport.weights.WeightBlob;
import org.rollstream.transport.weights.WeightChunks;
import org.rollstream.transport.weights.WeightStore;

/**
 * Measures a weight hand-over over Kafka the way the roles do it: the learner serialises a version
 * to safetensors bytes and puts it on {@code policy.weights} while it computes the sha-256; each of N actors,
 * on its own thread with its own consumer, fetches the chunks, assembles them, checks them (chunk
 * CRCs while reading, then the whole sha-256), decodes the tensors, makes ONNX Runtime's weight
 * tensors and readies the in-graph sampler's session (float16 when the actor runs float16), as
 * {@code PolicyLoader} does: with the weights as initializers it builds that session; with the
 * weights as inputs each actor's shared session ({@link WeightFedSessions}) was built by the warm-up
 * run and is reused. A run ends when the last actor serves. Not included: the announcement on
 * {@code policy.versions} (one small record) and the follower noticing it.
 */
final class WeightHandOver {
    /** One run; every stage in nanoseconds; actor stages are those of the slowest actor. */
    record Run(long bytes, int chunks, long serialize, long produce, long fetch, long verify, long decode, long tensors, long session,
               long total) {
    }

    private WeightHandOver() {
    }

    /**
     * @param fp16        move float16 tensors
     * @param device      where each actor's session runs
     * @param fp16Session  run the session in float16 (CUDA only, as {@code actor --fp16})
     * @param weightInputs the actors' sessions take the weights as inputs (as {@code --sampler-weights inputs})
     * @param prefetch     the actors read the weights topic as chunks arrive, as actors do; else each reads a
     *                     version from its offset once the put is done
     * @param learner      where the learner's parameters live, as the publisher exports them (a snapshot
     *                     there, converted to float16 there); null: serialise float32 weights on the host
     */
    static List<Run> measure(KafkaSettings kafka, ModelSpec spec, boolean fp16, Device device, boolean fp16Session, boolean weightInputs,
                             boolean prefetch, LearnerDevice learner, int actors, int runs) throws Exception {
        try (TopicAdmin admin = new TopicAdmin(kafka)) {
            admin.ensureTopics(Topics.all(1).stream().filter(t -> t.name().equals(Topics.POLICY_WEIGHTS)).toList());
        }
        Weights weights = DjlPolicy.initialWeights(spec, 11);
        try (NDManager nd = learner == null ? null : NDManager.newBaseManager(learner.resolve(), "PyTorch")) {
            DjlPolicy source = nd == null ? null : new DjlPolicy(spec, nd, weights);
            return measure(kafka, spec, fp16, device, fp16Session, weightInputs, prefetch, weights, source, actors, runs);
        }
    }

    private static List<Run> measure(KafkaSettings kafka, ModelSpec spec, boolean fp16, Device device, boolean fp16Session,
                                     boolean weightInputs, boolean prefetch, Weights weights, DjlPolicy source, int actors,
                                     int runs) throws Exception {
        String runId = "bench-" + Long.toHexString(System.nanoTime());
        List<Run> out = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(actors);
        List<KafkaWeightStore> readers = new ArrayList<>();
        List<WeightFedSessions> shared = new ArrayList<>();
        try (KafkaWeightStore publisher = new KafkaWeightStore(kafka, "bench-learner")) {
            for (int i = 0; i < actors; i++) {
                readers.add(prefetch ? KafkaWeightStore.prefetching(kafka, "bench-actor-" + i) : new KafkaWeightStore(kafka, "bench-actor-" + i));
                shared.add(weightInputs ? new WeightFedSessions(spec, device, fp16Session, 0) : null);
            }
            for (int r = 0; r <= runs; r++) { // run 0 warms up the JIT and the connections
                long version = r;
                long t0 = System.nanoTime();
                byte[] bytes = source == null ? WeightSnapshot.toBytes(weights, spec, version, version, fp16) : exported(source, spec, version, fp16);
                long t1 = System.nanoTime();
                // as the learner publishes: the sha-256 alongside the chunks (which carry none), the announcement after both
                CompletableFuture<String> hashing = CompletableFuture.supplyAsync(() -> WeightChunks.sha256(bytes));
                String location = publisher.put(new WeightBlob("bench", runId, 0, version, bytes, null, fp16));
                String sha = hashing.join();
                long t2 = System.nanoTime();
                CountDownLatch go = new CountDownLatch(1);
                List<Future<long[]>> done = new ArrayList<>();
                for (int i = 0; i < actors; i++) {
                    KafkaWeightStore reader = readers.get(i);
                    WeightFedSessions fed = shared.get(i);
                    done.add(pool.submit(() -> {
                        go.await();
                        WeightStore.Fetched f = reader.fetch(location, sha);
                        long a = System.nanoTime();
                        // as PolicyLoader: a float16 session takes float16 bytes as they are
                        HalfWeights halves = fp16Session ? SafetensorsFile.halvesOfVerifiedBytes(f.bytes(), location, spec) : null;
                        Weights floats = halves == null ? SafetensorsFile.fromVerifiedBytes(f.bytes(), location, spec).weights() : null;
                        long b = System.nanoTime();
                        long d;
                        long e;
                        try (OrtPolicy p = halves != null ? OrtPolicy.createWithoutSessions(spec, halves, device, 0, fed)
                                : OrtPolicy.createWithoutSessions(spec, floats, device, fp16Session, 0, fed)) {
                            d = System.nanoTime();
                            new InGraphSampler(p).prepare(1f, 1f, 0);
                            e = System.nanoTime();
                        }
                        return new long[]{f.readNanos(), f.verifyNanos(), b - a, d - b, e - d, e};
                    }));
                }
                go.countDown();
                long[] slowest = null;
                for (Future<long[]> f : done) {
                    long[] s = f.get();
                    if (slowest == null || s[5] > slowest[5]) {
                        slowest = s;
                    }
                }
                if (r > 0) {
                    int chunks = (bytes.length + Topics.WEIGHT_CHUNK_BYTES - 1) / Topics.WEIGHT_CHUNK_BYTES;
                    out.add(new Run(bytes.length, chunks, t1 - t0, t2 - t1, slowest[0], slowest[1], slowest[2], slowest[3], slowest[4],
                            slowest[5] - t0));
                }
            }
        } finally {
            readers.forEach(KafkaWeightStore::close);
            shared.stream().filter(java.util.Objects::nonNull).forEach(WeightFedSessions::close);
            pool.shutdownNow();
        }
        return out;
    }

    /** As the learner's publisher makes a version's file: from a snapshot of the parameters where they live. */
    private static byte[] exported(DjlPolicy source, ModelSpec spec, long version, boolean fp16) {
        try (DjlPolicy.ParameterSnapshot snap = source.snapshot()) {
            return snap.toFileBytes(spec, version, version, fp16);
        }
    }

    /**
     * One line of medians, in milliseconds.
     *
     * @param setup how this was measured, in words (device, how weights are taken and fetched, where they came from)
     */
    static String format(String preset, boolean fp16, String setup, int actors, List<Run> runs) {
        Run first = runs.get(0);
        return String.format(Locale.ROOT, "%-10s %s %7.1f MB %4d chunks %d actors | serialize %6.0f  produce %6.0f  "
                        + "consume+assemble %6.0f  verify %5.0f  decode %5.0f  tensors %5.0f  session %6.0f (%s) | publish->all serving %6.0f ms "
                        + "(median of %d; min %.0f, max %.0f)",
                preset, fp16 ? "fp16" : "fp32", first.bytes() / 1e6, first.chunks(), actors,
                ms(runs, Run::serialize), ms(runs, Run::produce), ms(runs, Run::fetch), ms(runs, Run::verify),
                ms(runs, Run::decode), ms(runs, Run::tensors), ms(runs, Run::session), setup,
                ms(runs, Run::total), runs.size(),
                runs.stream().mapToLong(Run::total).min().orElse(0) / 1e6, runs.stream().mapToLong(Run::total).max().orElse(0) / 1e6);
    }

    private static double ms(List<Run> runs, java.util.function.ToLongFunction<Run> stage) {
        long[] v = runs.stream().mapToLong(stage).toArray();
        Arrays.sort(v);
        return (v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2.0) / 1e6;
    }
}
