package org.rollstream.learner.replay;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.rollstream.learner.Checkpoints;
import org.rollstream.learner.ScoredGroupValidator;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.learner.grpo.GrpoTrainer;
import org.rollstream.learner.grpo.TrainingGroup;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.Weights;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.AuditEntry;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.StepAudit;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.schemas.serde.RecordDecodeException;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.errors.BadRecordException;

/**
 * Re-executes recorded learner steps: from the newest kept checkpoint before the first requested step
 * (policy, reference, optimizer moments and step count), on exactly the groups the effective audit log
 * says each step trained, in the order it trained them, with {@link GrpoTrainer}; then compares loss,
 * gradient norm, KL, clip fraction and importance weights with the run's {@code metrics.csv}.
 *
 * <p>Nothing of the run is changed: topics are read without a consumer group, no checkpoint, metric or
 * weight file is written. With one libtorch intra-op thread ({@link Options#threads()} = 1) a step is
 * computed in a fixed order, so a run that trained with one thread is reproduced bit for bit; a run
 * trained with more threads reproduces within a small tolerance (reductions split differently).
 */
public final class StepReplayer {
    private static final AvroCodec<StepAudit> AUDIT = AvroCodec.of(StepAudit.class);
    private static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);

    /**
     * @param fromStep  first step to re-execute (1 = the first GRPO step)
     * @param toStep    last step to re-execute
     * @param threads   libtorch intra-op threads during the replay (1: deterministic); restored afterwards
     * @param override  changes to the run's GRPO settings for a what-if replay (identity: none)
     * @param tolerance what counts as a match short of bit-identity
     */
    public record Options(long fromStep, long toStep, int threads, UnaryOperator<GrpoConfig> override,
                          ReplayReport.Tolerance tolerance) {
        public Options {
            if (fromStep < 1 || toStep < fromStep) {
                throw new IllegalArgumentException("a step range A..B needs 1 <= A <= B, got " + fromStep + ".." + toStep);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            }
        }
    }

    private StepReplayer() {
    }

    /**
     * Replays {@code options}' steps of the run in {@code runDir}, reading its topics from {@code kafka}.
     *
     * @throws ReplayException when the run directory, a checkpoint before the range, an audit record or a
     *                         trained group is missing (nothing has been replayed then)
     */
    public static ReplayReport replay(Path runDir, KafkaSettings kafka, Options options) {
        if (!Files.isDirectory(runDir)) {
            throw new ReplayException("run directory " + runDir + " does not exist");
        }
        Checkpoints checkpoints = new Checkpoints(runDir.resolve("checkpoints"));
        List<Path> kept = checkpoints.list();
        if (kept.isEmpty()) {
            throw new ReplayException(runDir + " has no checkpoints (is it a Rollstream run directory?)");
        }
        Checkpoints.Loaded start = checkpoints.atOrBefore(options.fromStep() - 1).orElseThrow(() -> new ReplayException(
                "no checkpoint at or before step " + (options.fromStep() - 1) + " is kept, so step " + options.fromStep()
                        + " cannot be re-executed; kept: " + kept.stream().map(p -> p.getFileName().toString()).toList()));
        Checkpoints.State st = start.state();
        String runId = st.learner().runId();
        ModelSpec spec = ModelSpec.fromJson(st.spec());
        GrpoConfig recorded = RunSettings.grpo(st.config());
        GrpoConfig grpo = options.override().apply(recorded);

        // which groups each step trained: the effective audit log
        List<StepAudit> audits = new ArrayList<>();
        TopicScan.scan(kafka, Topics.LEARNER_AUDIT, Map.of(), r -> {
            try {
                audits.add(AUDIT.decode(r.value()));
            } catch (RecordDecodeException e) {
                // an undecodable record cannot be an audit the replay relies on; the step is then reported missing
            }
            return true;
        });
        AuditTrail trail = AuditTrail.of(runId, audits);
        Map<Long, List<AuditEntry>> plan = new LinkedHashMap<>();
        Set<String> wanted = new HashSet<>();
        for (long s = st.step() + 1; s <= options.toStep(); s++) {
            List<AuditEntry> trained = trail.trained(s);
            if (trained.isEmpty()) {
                throw new ReplayException("the audit record of step " + s + " names no trained group");
            }
            plan.put(s, trained);
            trained.forEach(e -> wanted.add(e.getGroupId().toString()));
        }

        // exactly those groups, from where the checkpoint's consumer stood (every later-trained group is at or after it)
        Map<String, ScoredGroup> found = new HashMap<>();
        TopicScan.scan(kafka, Topics.ROLLOUTS_SCORED, st.learner().offsets(), r -> {
            try {
                ScoredGroup g = SCORED.decode(r.value());
                String id = g.getGroup().getGroupId().toString();
                if (wanted.contains(id)) {
                    found.putIfAbsent(id, g);
                }
            } catch (RecordDecodeException e) {
                // not a group the learner could have trained
            }
            return found.size() < wanted.size();
        });
        ScoredGroupValidator validator = new ScoredGroupValidator(spec);
        Map<Long, List<TrainingGroup>> batches = new LinkedHashMap<>();
        for (Map.Entry<Long, List<AuditEntry>> e : plan.entrySet()) {
            List<TrainingGroup> groups = new ArrayList<>();
            for (AuditEntry a : e.getValue()) {
                ScoredGroup g = found.get(a.getGroupId().toString());
                if (g == null) {
                    throw new ReplayException("group " + a.getGroupId() + " (prompt " + a.getPromptId() + ") trained by step "
                            + e.getKey() + " is not on " + Topics.ROLLOUTS_SCORED + " after the checkpoint's offsets "
                            + st.learner().offsets());
                }
                try {
                    groups.add(validator.validate(g));
                } catch (BadRecordException ex) {
                    throw new ReplayException("group trained by step " + e.getKey() + " does not validate: " + ex.getMessage());
                }
            }
            batches.put(e.getKey(), groups);
        }

        RecordedMetrics metrics = RecordedMetrics.read(runDir.resolve("metrics.csv"));
        List<ReplayReport.Step> rows = execute(start, spec, grpo, batches, options, trail, metrics);
        return new ReplayReport(runId, start.path(), st.step(), options.fromStep(), options.toStep(), options.threads(),
                grpo, !grpo.equals(recorded), options.tolerance(), rows);
    }

    /**
     * The learner steps that trained any of {@code groupIds}, as [first, last], for choosing a replay by a range
     * of {@code rollouts.scored}; groups the run never trained (dropped, duplicates, other runs) are ignored.
     *
     * @throws ReplayException when the run directory has no checkpoint naming its run, or no group was trained
     */
    public static long[] stepsTraining(Path runDir, KafkaSettings kafka, java.util.Collection<String> groupIds) {
        List<Path> kept = new Checkpoints(runDir.resolve("checkpoints")).list();
        if (kept.isEmpty()) {
            throw new ReplayException(runDir + " has no checkpoints (is it a Rollstream run directory?)");
        }
        String runId = Checkpoints.load(kept.get(kept.size() - 1)).state().learner().runId();
        List<StepAudit> audits = new ArrayList<>();
        TopicScan.scan(kafka, Topics.LEARNER_AUDIT, Map.of(), r -> {
            try {
                audits.add(AUDIT.decode(r.value()));
            } catch (RecordDecodeException e) {
                // skipped: not an audit record
            }
            return true;
        });
        AuditTrail trail = AuditTrail.of(runId, audits);
        long first = Long.MAX_VALUE;
        long last = -1;
        for (String id : groupIds) {
            long s = trail.stepOfGroup(id);
            if (s > 0) {
                first = Math.min(first, s);
                last = Math.max(last, s);
            }
        }
        if (last < 0) {
            throw new ReplayException("none of the " + groupIds.size() + " groups in the range was trained by run " + runId);
        }
        return new long[] {first, last};
    }

    private static List<ReplayReport.Step> execute(Checkpoints.Loaded start, ModelSpec spec, GrpoConfig grpo,
                                                   Map<Long, List<TrainingGroup>> batches, Options options,
                                                   AuditTrail trail, RecordedMetrics metrics) {
        Engine.getInstance();
        int before = JniUtils.getNumThreads();
        JniUtils.setNumThreads(options.threads());
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(spec, nd, start.policy());
            DjlPolicy reference = start.reference() == null ? null : new DjlPolicy(spec, nd, start.reference());
            if (grpo.klBeta() > 0 && reference == null) {
                throw new ReplayException("KL beta " + grpo.klBeta() + " needs a reference policy, but the checkpoint has none");
            }
            AdamW optimizer = AdamW.standard(nd, grpo.weightDecay());
            optimizer.restore(arrays(nd, start.optimizer()), start.state().optimizerSteps());
            GrpoTrainer trainer = new GrpoTrainer(policy, reference, optimizer, grpo, CharTokenizer.builtin().pad());
            List<ReplayReport.Step> rows = new ArrayList<>();
            for (Map.Entry<Long, List<TrainingGroup>> e : batches.entrySet()) {
                long step = e.getKey();
                GrpoTrainer.StepStats s = trainer.step(e.getValue());
                Map<String, Double> replayed = Map.of("loss", s.loss(), "grad_norm", s.gradNorm(), "kl", s.kl(),
                        "clip_fraction", s.clipFraction(), "importance_weight", s.importanceWeight(),
                        "mismatch_kl", s.mismatchKl());
                List<ReplayReport.Value> values = new ArrayList<>();
                for (String m : ReplayReport.METRICS) {
                    values.add(new ReplayReport.Value(m, metrics.value(step, m), replayed.get(m)));
                }
                rows.add(new ReplayReport.Step(step, step < options.fromStep(), trail.incarnation(step), e.getValue().size(),
                        values));
            }
            return rows;
        } finally {
            JniUtils.setNumThreads(before);
        }
    }

    private static Map<String, NDArray> arrays(NDManager nd, Weights w) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        w.tensors().forEach((k, t) -> out.put(k, nd.create(t.data(), new Shape(t.shape()))));
        return out;
    }
}
