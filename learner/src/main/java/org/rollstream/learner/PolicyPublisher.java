package org.rollstream.learner;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.rollstream.learner.state.RunIdentity;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.time.Time;
import org.rollstream.transport.weights.DirectoryWeightStore;
import org.rollstream.transport.weights.WeightBlob;
import org.rollstream.transport.weights.WeightChunks;
import org.rollstream.transport.weights.WeightStore;
import org.rollstream.transport.weights.WeightsSettings;

/**
 * Writes policy snapshots to {@code <run>/weights/vNNNNNN.safetensors} and announces them on
 * {@code policy.versions}. A published file never changes: it is written under a temporary name and
 * moved into place, and a version whose file exists is refused (versions only grow, so that would be
 * a bug). The first file and the last {@link #KEEP} are kept; actors load within seconds of an
 * announcement, and version 0 is the cold-start policy a run may want to look at.
 *
 * <p>With the Kafka store the file is still written (it is the learner's record of what it
 * published, which a restart reads) while the same bytes go to {@code policy.weights}, and the
 * announcement names them there, so actors need no access to the run directory. The sha-256 is
 * computed alongside (the chunks do not carry it; the announcement does): the file, the chunks and
 * the checksum each take a thread, and the announcement waits for all three. With a signer, every
 * announcement is signed.
 */
final class PolicyPublisher {
    static final int KEEP = 6;
    private static final AvroCodec<PolicyVersion> CODEC = AvroCodec.of(PolicyVersion.class);

    private final DirectoryWeightStore files;
    private final WeightStore remote; // null: actors read the files
    private final WeightsSettings weights;
    private final String policyName;
    private final ModelSpec spec;
    private final RunIdentity run;
    private final ReactiveProducer producer;
    private final Time time;
    private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "learner-publisher");
        t.setDaemon(true);
        return t;
    });
    /** The checksum and the file, beside the chunks going out on the publisher's thread. */
    private final ExecutorService alongside = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "learner-publisher-alongside");
        t.setDaemon(true);
        return t;
    });
    private record Waiting(DjlPolicy.ParameterSnapshot snapshot, long version, long step) {
    }

    private Waiting waiting; // guarded by this: the version to publish next
    private boolean running; // guarded by this: the publisher's thread is draining
    private Throwable failure; // guarded by this: the first background failure
    private long skipped; // guarded by this

    /** @param remote where actors fetch weights from, or null when they read the run directory's files */
    PolicyPublisher(Path dir, String policyName, ModelSpec spec, RunIdentity run, ReactiveProducer producer, Time time,
                    WeightsSettings weights, WeightStore remote) {
        this.files = new DirectoryWeightStore(dir, KEEP);
        this.remote = remote;
        this.weights = weights;
        this.policyName = policyName;
        this.spec = spec;
        this.run = run;
        this.producer = producer;
        this.time = time;
    }

    /** The highest version with a file in the weights folder, -1 if none (what a crashed start got to). */
    long highestOnDisk() {
        return files.highestStored();
    }

    /**
     * Publishes {@code version} on the publisher's own thread and returns at once: the learner trains
     * on while the weights are exported from {@code snapshot}, encoded, hashed, written and announced
     * (about a second for an 85 M-parameter policy). Versions go out in order, one at a time. When
     * this is called while a publication is still going, the new version waits for it, and a version
     * still waiting is dropped for the newer one (closed, never announced, counted in
     * {@link #skipped()}): actors want the newest weights, and a learner that publishes faster than
     * weights can travel must not block its steps. A learner that waits for its own newest version
     * (η = 0) never has it dropped. A failure surfaces at the next call or at {@link #awaitPublished()}.
     *
     * @param snapshot the weights of {@code version}; the publisher closes it
     */
    void publishInBackground(DjlPolicy.ParameterSnapshot snapshot, long version, long step) {
        DjlPolicy.ParameterSnapshot dropped = null;
        synchronized (this) {
            rethrowFailure();
            if (waiting != null) {
                dropped = waiting.snapshot();
                skipped++;
            }
            waiting = new Waiting(snapshot, version, step);
            if (!running) {
                running = true;
                background.execute(this::drain);
            }
        }
        if (dropped != null) {
            dropped.close();
        }
    }

    /** Versions dropped for a newer one before they went out, since the start. */
    synchronized long skipped() {
        return skipped;
    }

    /** Publishes waiting versions until none is left (on the publisher's thread). */
    private void drain() {
        while (true) {
            Waiting next;
            synchronized (this) {
                next = waiting;
                waiting = null;
                if (next == null || failure != null) {
                    running = false;
                    notifyAll();
                    if (next != null) next.snapshot().close();
                    return;
                }
            }
            try (DjlPolicy.ParameterSnapshot snap = next.snapshot()) {
                // with float16 weights, the halves are made where the parameters live: half the bytes to the host, no encoding here
                publish(snap.toFileBytes(spec, next.version(), next.step(), weights.fp16()), next.version(), next.step());
            } catch (Throwable t) {
                synchronized (this) {
                    failure = t;
                }
            }
        }
    }

    /** Waits until no background publication is going or waiting; rethrows a failure. */
    void awaitPublished() {
        synchronized (this) {
            try {
                while (running) {
                    wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while a policy version was being published", e);
            }
            rethrowFailure();
        }
    }

    private void rethrowFailure() {
        if (failure != null) {
            Throwable c = failure;
            throw c instanceof RuntimeException r ? r : new IllegalStateException("publishing a policy version failed: " + c, c);
        }
    }

    /**
     * Stops the publisher: a version still waiting is dropped, and one being published is given up to
     * a minute to finish, since its snapshot lives in the learner's NDManager, which closes next.
     */
    void close() {
        DjlPolicy.ParameterSnapshot dropped;
        synchronized (this) {
            dropped = waiting == null ? null : waiting.snapshot();
            waiting = null;
        }
        if (dropped != null) {
            dropped.close();
        }
        background.shutdown();
        try {
            if (!background.awaitTermination(60, TimeUnit.SECONDS)) {
                background.shutdownNow();
            }
        } catch (InterruptedException e) {
            background.shutdownNow();
            Thread.currentThread().interrupt();
        }
        alongside.shutdownNow();
    }

    /** Writes and announces {@code version}; returns once the broker has the weights (if it carries them) and the announcement. */
    PolicyVersion publish(Weights weights, long version, long step) {
        return publish(WeightSnapshot.toBytes(weights, spec, version, step, this.weights.fp16()), version, step);
    }

    /** {@link #publish(Weights, long, long)} of a weights file already made. */
    private PolicyVersion publish(byte[] bytes, long version, long step) {
        WeightBlob blob = new WeightBlob(policyName, run.runId(), run.incarnation(), version, bytes, null, this.weights.fp16());
        CompletableFuture<String> sha = CompletableFuture.supplyAsync(() -> WeightChunks.sha256(bytes), alongside);
        String location;
        if (remote != null) {
            CompletableFuture<String> file = CompletableFuture.supplyAsync(() -> files.put(blob), alongside);
            location = remote.put(blob);
            joined(file);
        } else {
            location = files.put(blob);
        }
        PolicyVersion pv = PolicyVersion.newBuilder().setPolicy(policyName).setVersion(version).setStep(step)
                .setRunId(run.runId()).setIncarnation(run.incarnation())
                .setWeightsLocation(location).setSha256(joined(sha))
                .setCreatedAtMs(time.milliseconds()).setSpec(spec.toJson()).build();
        if (this.weights.signer().isPresent()) {
            pv = this.weights.signer().get().sign(pv);
        }
        producer.send(Topics.POLICY_VERSIONS, policyName, pv, CODEC::encode).block(Duration.ofSeconds(30));
        return pv;
    }

    /** The result, or the task's own exception (a WeightStoreException stays one). */
    private static <T> T joined(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }
}
