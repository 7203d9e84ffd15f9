package org.rollstream.reward.model;

import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import org.rollstream.reward.ComponentScore;
import org.rollstream.reward.ExternalOptions;
import org.rollstream.reward.GroupRewardFunction;
import org.rollstream.reward.RewardException;
import org.rollstream.reward.RewardInput;
import org.rollstream.tasks.preference.RewardTexts;

/**
 * A sequence-classification reward model in ONNX, run with ONNX Runtime: the text of each
 * completion (the prompt followed by the completion, by default) is tokenized, the group is run in
 * padded batches, and the reward is the logit of the chosen label.
 *
 * <p>Configured as {@code rm=1.0,rm.type=onnx,rm.path=/models/rm.onnx} plus options:
 * <ul>
 *   <li>{@code tokenizer}: a Hugging Face {@code tokenizer.json} path, {@code bytes} (one id per
 *       UTF-8 byte) or {@code char} (the built-in character tokenizer, for models made by
 *       {@code rollstream train-rm}); default the {@code tokenizer.json} next to the model;</li>
 *   <li>{@code max-length} tokens per text (default 512): longer texts keep their first token (e.g.
 *       [CLS]) and their last {@code max-length − 1}, so the completion's end is always seen;</li>
 *   <li>{@code label}: which logit is the reward when the model has several (default 0);
 *       {@code batch}: texts per run (default 16); {@code text}: {@code prompt+completion},
 *       {@code completion} or {@code prompt+answer} (the prompt and only the final answer,
 *       {@link org.rollstream.tasks.preference.RewardTexts#helpfulness}, as R1 judged helpfulness); {@code pad-id} (default 0); {@code device}: {@code cpu} or {@code cuda:N}.</li>
 * </ul>
 * The model takes {@code input_ids} (int64, (B, T)) and, when it declares them,
 * {@code attention_mask} and {@code token_type_ids} (zeros); its first output is the logits,
 * (B, L) or (B). A non-finite logit fails the group ({@link RewardException}). Thread-safe (ORT
 * sessions are); {@link #close} releases the session.
 */
public final class OnnxReward implements GroupRewardFunction, AutoCloseable {
    public static final String TYPE = "onnx";
    private static final Set<String> OPTIONS = Set.of("path", "tokenizer", "max-length", "label", "batch", "text", "pad-id", "device");

    private final String name;
    private final Path path;
    private final TextTokenizer tokenizer;
    private final int maxLength;
    private final int label;
    private final int batch;
    private final String text;
    private final long padId;
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final String idsInput;
    private final boolean wantsMask;
    private final boolean wantsTypes;

    private OnnxReward(ExternalOptions o) {
        o.checkKnown(OPTIONS);
        this.name = o.reward();
        this.path = Path.of(o.required("path"));
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("reward '" + name + "': model file not found: " + path);
        }
        this.maxLength = o.integer("max-length", 512, 2);
        this.label = o.integer("label", 0, 0);
        this.batch = o.integer("batch", 16, 1);
        this.text = o.choice("text", "prompt+completion", "prompt+completion", "completion", "prompt+answer");
        this.padId = o.integer("pad-id", 0, 0);
        String tok = o.string("tokenizer", "");
        Path sibling = path.resolveSibling("tokenizer.json");
        if (tok.isEmpty() && !Files.isRegularFile(sibling)) {
            throw new IllegalArgumentException("reward '" + name + "' needs option " + name + ".tokenizer (a tokenizer.json, or bytes): "
                    + "there is no tokenizer.json next to " + path);
        }
        this.tokenizer = "bytes".equals(tok) ? TextTokenizer.bytes() : "char".equals(tok) ? TextTokenizer.chars()
                : TextTokenizer.huggingFace(tok.isEmpty() ? sibling : Path.of(tok));
        try {
            this.session = open(o.string("device", "cpu"));
            Map<String, NodeInfo> inputs = session.getInputInfo();
            this.idsInput = inputs.containsKey("input_ids") ? "input_ids" : inputs.keySet().iterator().next();
            this.wantsMask = inputs.containsKey("attention_mask");
            this.wantsTypes = inputs.containsKey("token_type_ids");
            Set<String> known = Set.of(idsInput, "attention_mask", "token_type_ids");
            for (String in : inputs.keySet()) {
                if (!known.contains(in)) {
                    throw new IllegalArgumentException("reward '" + name + "': model input '" + in + "' is not one of input_ids, attention_mask, token_type_ids");
                }
            }
        } catch (OrtException e) {
            tokenizer.close();
            throw new IllegalArgumentException("reward '" + name + "': cannot load ONNX model " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /** @throws IllegalArgumentException for a missing model or tokenizer, a model that is not a classifier, or a bad option */
    public static OnnxReward create(ExternalOptions options) {
        return new OnnxReward(options);
    }

    private OrtSession open(String device) throws OrtException {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            String d = device.strip().toLowerCase();
            if (d.equals("cuda") || d.startsWith("cuda:")) {
                int idx = d.equals("cuda") ? 0 : Integer.parseInt(d.substring(5));
                opts.addCUDA(idx); // fails with a clear OrtException when the CUDA provider is not in the loaded natives
            } else if (!d.equals("cpu")) {
                throw new IllegalArgumentException("reward '" + name + "' device must be cpu or cuda:N, got " + device);
            }
            return env.createSession(path.toString(), opts);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<ComponentScore> scoreGroup(List<RewardInput> group) {
        List<ComponentScore> out = new ArrayList<>(group.size());
        for (int from = 0; from < group.size(); from += batch) {
            List<RewardInput> part = group.subList(from, Math.min(group.size(), from + batch));
            for (double v : run(part)) {
                out.add(ComponentScore.of(v));
            }
        }
        return out;
    }

    /** (B) rewards of one padded batch. */
    private double[] run(List<RewardInput> part) {
        int b = part.size();
        long[][] ids = new long[b][];
        int t = 1;
        for (int i = 0; i < b; i++) {
            RewardInput in = part.get(i);
            ids[i] = truncate(tokenizer.encode(text(in)));
            t = Math.max(t, ids[i].length);
        }
        long[] flatIds = new long[b * t];
        long[] mask = new long[b * t];
        Arrays.fill(flatIds, padId);
        for (int i = 0; i < b; i++) {
            System.arraycopy(ids[i], 0, flatIds, i * t, ids[i].length);
            Arrays.fill(mask, i * t, i * t + ids[i].length, 1L);
        }
        long[] shape = {b, t};
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            feed.put(idsInput, OnnxTensor.createTensor(env, LongBuffer.wrap(flatIds), shape));
            if (wantsMask) {
                feed.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            }
            if (wantsTypes) {
                feed.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b * t]), shape));
            }
            try (OrtSession.Result r = session.run(feed)) {
                return logits(r.get(0), b);
            }
        } catch (OrtException e) {
            throw new RewardException(name, "ONNX Runtime failed on a batch of " + b + ": " + e.getMessage(), e);
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    private String text(RewardInput in) {
        return switch (text) {
            case "completion" -> in.completion();
            case "prompt+answer" -> RewardTexts.helpfulness(in.prompt(), in.completion());
            default -> in.prompt() + in.completion();
        };
    }

    private double[] logits(OnnxValue value, int b) throws OrtException {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new RewardException(name, "the model's first output is not a tensor", null);
        }
        TensorInfo info = tensor.getInfo();
        long[] shape = info.getShape();
        float[] flat = new float[(int) info.getNumElements()];
        switch (info.type) {
            case FLOAT -> tensor.getFloatBuffer().get(flat);
            case DOUBLE -> {
                double[] d = new double[flat.length];
                tensor.getDoubleBuffer().get(d);
                for (int i = 0; i < d.length; i++) {
                    flat[i] = (float) d[i];
                }
            }
            default -> throw new RewardException(name, "the model's logits are " + info.type + ", not float", null);
        }
        int labels = shape.length == 1 ? 1 : (int) shape[shape.length - 1];
        if (shape.length == 0 || shape[0] != b || (shape.length > 2) || label >= labels) {
            throw new RewardException(name, "the model's logits have shape " + Arrays.toString(shape) + "; expected (" + b + ", L > " + label + ") or (" + b + ")", null);
        }
        double[] out = new double[b];
        for (int i = 0; i < b; i++) {
            out[i] = flat[i * labels + label];
            if (!Double.isFinite(out[i])) {
                throw new RewardException(name, "the model returned " + out[i] + " for completion " + i, null);
            }
        }
        return out;
    }

    private long[] truncate(long[] ids) {
        if (ids.length == 0) {
            return new long[] {padId};
        }
        if (ids.length <= maxLength) {
            return ids;
        }
        long[] out = new long[maxLength];
        out[0] = ids[0];
        System.arraycopy(ids, ids.length - (maxLength - 1), out, 1, maxLength - 1);
        return out;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException ignored) {
            // nothing left to release
        }
        tokenizer.close();
    }
}
