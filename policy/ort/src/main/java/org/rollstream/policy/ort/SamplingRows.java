package org.rollstream.policy.ort;

import org.rollstream.policy.SamplingParams;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.SampledSequence;
import org.rollstream.policy.FinishReason;


import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The host side of one {@link OrtSampler} call: per row (prompt x group member) its tokens,
 * log-probs, finish reason, random stream, attention mask and next position, and which rows are
 * still in the batch. No ONNX Runtime objects: those stay in {@link OrtSampler}.
 */
final class SamplingRows {
    private final int groupSize;
    private final int prompts;
    private final int maxNew;
    private final int[] stops;
    private final SamplingParams params;
    private final int vocab;
    private final TokenDraw draw;
    private final SplittableRandom[] rng;
    private final int[][] tokens;
    private final float[][] logProbs;
    private final float[][] policyLogProbs;
    private final int[] count;
    private final FinishReason[] reason;
    private final long[][] mask;
    private final long[] nextPos;
    private final long[] prefillIds;
    private final long[] prefillPos;
    private int[] rows; // batch index -> row
    private int cacheLen;
    private int alive;

    SamplingRows(List<int[]> promptTokens, int groupSize, int lp, int maxNew, int[] stops, SamplingParams params, int vocab) {
        this.groupSize = groupSize;
        this.prompts = promptTokens.size();
        this.maxNew = maxNew;
        this.stops = stops;
        this.params = params;
        this.vocab = vocab;
        this.draw = new TokenDraw(vocab);
        int n = prompts * groupSize;
        rng = new SplittableRandom[n];
        tokens = new int[n][maxNew];
        logProbs = new float[n][maxNew];
        policyLogProbs = new float[n][maxNew];
        count = new int[n];
        reason = new FinishReason[n];
        mask = new long[n][];
        nextPos = new long[n];
        prefillIds = new long[n * lp];
        prefillPos = new long[n * lp];
        rows = new int[n];
        for (int r = 0; r < n; r++) {
            rng[r] = new SplittableRandom(params.seed() * 0x9E3779B97F4A7C15L + r);
            rows[r] = r;
            int[] p = promptTokens.get(r / groupSize);
            int pad = lp - p.length; // left padding
            mask[r] = new long[lp];
            for (int j = 0; j < p.length; j++) {
                prefillIds[r * lp + pad + j] = p[j];
                prefillPos[r * lp + pad + j] = j;
                mask[r][pad + j] = 1;
            }
            nextPos[r] = p.length;
        }
        cacheLen = lp;
        alive = n;
    }

    int batch() {
        return rows.length;
    }

    int cacheLength() {
        return cacheLen;
    }

    long[] prefillIds() {
        return prefillIds;
    }

    long[] prefillPositions() {
        return prefillPos;
    }

    /** Draws the next token of every unfinished row from {@code logits} (batch, vocab); returns the rows still going. */
    int drawAll(float[] logits) {
        alive = 0;
        for (int i = 0; i < rows.length; i++) {
            int r = rows[i];
            if (reason[r] != null) continue;
            TokenDraw.Draw d = draw.draw(logits, i * vocab, vocab, params, rng[r]);
            tokens[r][count[r]] = d.token();
            logProbs[r][count[r]] = d.logProb();
            policyLogProbs[r][count[r]] = d.policyLogProb();
            count[r]++;
            if (contains(stops, d.token())) reason[r] = FinishReason.STOP;
            else if (count[r] >= maxNew) reason[r] = FinishReason.LENGTH;
            else alive++;
        }
        return alive;
    }

    /** True once a quarter of the batch has finished. */
    boolean worthCompacting() {
        return alive <= rows.length * 3 / 4;
    }

    /** Batch indices of the unfinished rows. */
    int[] aliveIndices() {
        int[] keep = new int[alive];
        int k = 0;
        for (int i = 0; i < rows.length; i++) if (reason[rows[i]] == null) keep[k++] = i;
        return keep;
    }

    void keep(int[] batchIndices) {
        int[] nr = new int[batchIndices.length];
        for (int i = 0; i < nr.length; i++) nr[i] = rows[batchIndices[i]];
        rows = nr;
    }

    /** Extends every row's mask by the token about to be fed. */
    void advance() {
        for (int r : rows) {
            mask[r] = Arrays.copyOf(mask[r], cacheLen + 1);
            mask[r][cacheLen] = 1;
        }
        cacheLen++;
    }

    long[] lastTokens() {
        long[] ids = new long[rows.length];
        for (int i = 0; i < rows.length; i++) ids[i] = tokens[rows[i]][count[rows[i]] - 1];
        return ids;
    }

    /** Positions of the tokens about to be fed (and advances them). */
    long[] stepPositions() {
        long[] pos = new long[rows.length];
        for (int i = 0; i < rows.length; i++) pos[i] = nextPos[rows[i]]++;
        return pos;
    }

    /** The mask of the rows in the batch, flattened to (batch, cacheLength). */
    long[] mask() {
        long[] m = new long[rows.length * cacheLen];
        for (int i = 0; i < rows.length; i++) System.arraycopy(mask[rows[i]], 0, m, i * cacheLen, cacheLen);
        return m;
    }

    List<List<SampledSequence>> results(Tokenizer tokenizer) {
        List<List<SampledSequence>> out = new ArrayList<>(prompts);
        for (int p = 0; p < prompts; p++) {
            List<SampledSequence> group = new ArrayList<>(groupSize);
            for (int g = 0; g < groupSize; g++) {
                int r = p * groupSize + g;
                int[] toks = Arrays.copyOf(tokens[r], count[r]);
                String text = null;
                if (tokenizer != null) {
                    text = tokenizer.decode(reason[r] == FinishReason.STOP ? Arrays.copyOf(toks, toks.length - 1) : toks);
                }
                group.add(new SampledSequence(toks, text, Arrays.copyOf(logProbs[r], count[r]),
                        Arrays.copyOf(policyLogProbs[r], count[r]), reason[r]));
            }
            out.add(group);
        }
        return out;
    }

    private static boolean contains(int[] a, int x) {
        for (int y : a) if (y == x) return true;
        return false;
    }
}
