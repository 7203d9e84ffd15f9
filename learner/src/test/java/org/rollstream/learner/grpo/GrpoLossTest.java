package org.rollstream.learner.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Hand-computed values of the GRPO objective and its gradient on one or two completions. */
class GrpoLossTest {
    private static final double EPS = 1e-5;
    private NDManager nd;

    @BeforeEach
    void open() {
        nd = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        nd.close();
    }

    private static GrpoConfig cfg(double clipLow, double clipHigh, double beta, double cap, Aggregation agg) {
        return new GrpoConfig(1, 0, clipLow, clipHigh, beta, cap, agg, false, 1e-3, 0, 0, 1);
    }

    private NDArray row(double... v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return nd.create(f).reshape(1, v.length);
    }

    /** loss and d(loss)/d(logp) for a single completion. */
    private float[][] lossAndGrad(double[] logp, double[] old, double adv, GrpoConfig c) {
        NDArray lp = row(logp);
        lp.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            GrpoLoss.Result r = GrpoLoss.compute(lp, row(old), lp.stopGradient(), null, lp.onesLike(),
                    nd.create(new float[] {(float) adv}), c);
            gc.backward(r.loss());
            return new float[][] {{r.loss().getFloat()}, lp.getGradient().toFloatArray()};
        }
    }

    @Test
    void clippedSurrogateAndItsGradient() {
        // ratios 1.25 (above 1+ε) and 0.8333 (inside), advantage +1, ε = 0.2 both sides
        double[] logp = {Math.log(0.5), Math.log(0.5)};
        double[] old = {Math.log(0.4), Math.log(0.6)};
        float[][] out = lossAndGrad(logp, old, 1.0, cfg(0.2, 0.2, 0, 0, Aggregation.TOKEN_MEAN));
        assertEquals((-1.2 - 0.5 / 0.6) / 2, out[0][0], EPS);
        // the clipped token passes no gradient; the other one passes -r/2
        assertArrayEquals(new float[] {0f, (float) (-(0.5 / 0.6) / 2)}, out[1], (float) EPS);
    }

    @Test
    void clipHigherLetsAPositiveTokenGrowFurther() {
        double[] logp = {Math.log(0.5), Math.log(0.5)};
        double[] old = {Math.log(0.4), Math.log(0.6)};
        float[][] out = lossAndGrad(logp, old, 1.0, cfg(0.2, 0.28, 0, 0, Aggregation.TOKEN_MEAN));
        assertEquals((-1.25 - 0.5 / 0.6) / 2, out[0][0], EPS);
        assertArrayEquals(new float[] {(float) (-1.25 / 2), (float) (-(0.5 / 0.6) / 2)}, out[1], (float) EPS);
    }

    @Test
    void negativeAdvantageClipsOnTheLowSide() {
        // ratios 1.25 and 0.75; advantage -1: the pessimistic bound keeps 1.25 unclipped and clips 0.75 at 0.8
        double[] logp = {Math.log(0.5), Math.log(0.5)};
        double[] old = {Math.log(0.4), Math.log(0.5 / 0.75)};
        float[][] out = lossAndGrad(logp, old, -1.0, cfg(0.2, 0.28, 0, 0, Aggregation.TOKEN_MEAN));
        assertEquals((1.25 + 0.8) / 2, out[0][0], EPS);
        assertArrayEquals(new float[] {(float) (1.25 / 2), 0f}, out[1], (float) EPS);
    }

    private NDArray rows(double[][] v) {
        float[] f = new float[v.length * v[0].length];
        for (int i = 0; i < v.length; i++) {
            for (int j = 0; j < v[0].length; j++) {
                f[i * v[0].length + j] = (float) v[i][j];
            }
        }
        return nd.create(f).reshape(v.length, v[0].length);
    }

    @Test
    void clipFiresAboveOnePlusEpsHighForPositiveAndBelowOneMinusEpsLowForNegativeAdvantage() {
        // two completions of two tokens; ratios π/π_prox chosen by hand, ε_low 0.2, ε_high 0.28
        double[][] ratios = {{1.5, 1.1}, {0.5, 1.4}};
        double[][] logp = {{Math.log(0.6), Math.log(0.3)}, {Math.log(0.2), Math.log(0.7)}};
        double[][] prox = new double[2][2];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                prox[i][j] = logp[i][j] - Math.log(ratios[i][j]);
            }
        }
        NDArray lp = rows(logp);
        lp.setRequiresGradient(true);
        NDArray adv = nd.create(new float[] {1f, -1f});
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            GrpoLoss.Result r = GrpoLoss.compute(lp, rows(prox), lp.stopGradient(), null, lp.onesLike(), adv,
                    cfg(0.2, 0.28, 0, 0, Aggregation.TOKEN_MEAN));
            gc.backward(r.loss());
            // per token −min(r·A, clip(r)·A):
            //   A=+1: r=1.5 → −min(1.5, 1.28) = −1.28 (clipped);  r=1.1 → −1.1
            //   A=−1: r=0.5 → −min(−0.5, −0.8) = 0.8 (clipped);    r=1.4 → −min(−1.4, −1.28) = 1.4 (not clipped:
            //         the pessimistic bound keeps the unclipped term, so the gradient still flows)
            assertEquals((-1.28 - 1.1 + 0.8 + 1.4) / 4, r.loss().getFloat(), EPS);
            // d/dlogp of −r·A/4 is −A·r/4; clipped tokens pass nothing
            assertArrayEquals(new float[] {0f, (float) (-1.1 / 4), 0f, (float) (1.4 / 4)},
                    lp.getGradient().toFloatArray(), (float) EPS);
            assertEquals(0.5, r.clipFraction().getFloat(), EPS, "two of four tokens have an active clip");
            assertEquals(0.5, r.ratioMin().getFloat(), EPS);
            assertEquals(1.5, r.ratioMax().getFloat(), EPS);
        }
    }

    @Test
    void cappedWeightScalesTheClippedSurrogateAndItsGradient() {
        // ratio 1.1 (inside the clip), A = +1; π_prox/μ = 3 capped at 2
        double logp = Math.log(0.55);
        double prox = Math.log(0.5);
        double behaviour = Math.log(0.5 / 3);
        NDArray lp = row(logp);
        lp.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            GrpoLoss.Result r = GrpoLoss.compute(lp, row(prox), lp.stopGradient(), row(behaviour), lp.onesLike(),
                    nd.create(new float[] {1f}), cfg(0.2, 0.28, 0, 2.0, Aggregation.TOKEN_MEAN));
            gc.backward(r.loss());
            assertEquals(-2 * 1.1, r.loss().getFloat(), EPS);
            assertEquals(-2 * 1.1, lp.getGradient().getFloat(0, 0), EPS);
            assertEquals(2.0, r.importanceWeightMean().getFloat(), EPS);
        }
    }

    @Test
    void mismatchStatsCapWeightsAndEstimateTheBehaviourProximalKl() {
        // raw weights π_prox/μ of 3, 0.5, 1 and 2.5 on real tokens; a padded position must not count
        double[] raw = {3, 0.5, 1, 2.5};
        NDArray prox = rows(new double[][] {{Math.log(0.6), Math.log(0.3), Math.log(0.2)}, {Math.log(0.5), Math.log(0.9), -7}});
        float[] p = prox.toFloatArray();
        double[][] behaviour = {{p[0] - Math.log(raw[0]), p[1] - Math.log(raw[1]), p[2] - Math.log(raw[2])},
                {p[3] - Math.log(raw[3]), 0, 0}};
        NDArray mask = rows(new double[][] {{1, 1, 1}, {1, 0, 0}});
        MismatchStats s = MismatchStats.of(prox, rows(behaviour), mask, 2.0);
        assertEquals(4, s.tokens());
        assertEquals((2 + 0.5 + 1 + 2) / 4, s.weightMean(), EPS);
        assertEquals(2.0, s.weightMax(), EPS);
        assertEquals(0.5, s.cappedFraction(), EPS);
        double k3 = 0;
        for (double w : raw) {
            k3 += w - Math.log(w) - 1;
        }
        assertEquals(k3 / 4, s.mismatchKl(), 1e-4);
        MismatchStats off = MismatchStats.of(prox, rows(behaviour), mask, 0);
        assertEquals(1.0, off.weightMean(), EPS, "no cap means no weight");
        assertEquals(0.0, off.cappedFraction(), EPS);
        assertEquals(k3 / 4, off.mismatchKl(), 1e-4, "the mismatch is measured whether or not it is corrected");
    }

    @Test
    void k3EstimatorValues() {
        NDArray logp = row(Math.log(0.5), Math.log(0.3));
        NDArray ref = row(Math.log(0.25), Math.log(0.3));
        float[] kl = GrpoLoss.k3(logp, ref).toFloatArray();
        assertEquals(0.5 + Math.log(2) - 1, kl[0], EPS);
        assertEquals(0.0, kl[1], EPS);
    }

    @Test
    void klPenaltyAddsBetaTimesK3AndItsGradient() {
        NDArray lp = row(Math.log(0.5));
        lp.setRequiresGradient(true);
        NDArray ref = row(Math.log(0.25));
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            // advantage 0 isolates the KL term
            GrpoLoss.Result r = GrpoLoss.compute(lp, lp.stopGradient(), ref, null, lp.onesLike(),
                    nd.create(new float[] {0f}), cfg(0.2, 0.2, 0.5, 0, Aggregation.TOKEN_MEAN));
            gc.backward(r.loss());
            assertEquals(0.5 * (0.5 + Math.log(2) - 1), r.loss().getFloat(), EPS);
            // d/dlogp [exp(ref-logp) - (ref-logp) - 1] = 1 - exp(ref-logp) = 0.5, times β
            assertEquals(0.25, lp.getGradient().getFloat(0, 0), EPS);
        }
    }

    @Test
    void truncatedImportanceWeightScalesThePolicyGradient() {
        NDArray lp = row(Math.log(0.5));
        NDArray behaviour = row(Math.log(0.1));
        // π_old/μ = 5, capped at 2; ratio 1 and advantage 1 give pg = -1
        GrpoLoss.Result capped = GrpoLoss.compute(lp, lp, lp, behaviour, lp.onesLike(), nd.create(new float[] {1f}),
                cfg(0.2, 0.2, 0, 2.0, Aggregation.TOKEN_MEAN));
        assertEquals(-2.0, capped.loss().getFloat(), EPS);
        assertEquals(2.0, capped.importanceWeightMean().getFloat(), EPS);
        NDArray closer = row(Math.log(0.4));
        GrpoLoss.Result uncapped = GrpoLoss.compute(lp, lp, lp, closer, lp.onesLike(), nd.create(new float[] {1f}),
                cfg(0.2, 0.2, 0, 2.0, Aggregation.TOKEN_MEAN));
        assertEquals(-1.25, uncapped.loss().getFloat(), EPS);
    }

    @Test
    void tokenMeanAndSequenceMeanWeighCompletionsDifferently() {
        NDArray perToken = nd.create(new float[] {1, 2, 3, 99}).reshape(2, 2);
        NDArray mask = nd.create(new float[] {1, 1, 1, 0}).reshape(2, 2);
        assertEquals(2.0, GrpoLoss.aggregate(perToken, mask, Aggregation.TOKEN_MEAN).getFloat(), EPS);
        assertEquals(2.25, GrpoLoss.aggregate(perToken, mask, Aggregation.SEQUENCE_MEAN).getFloat(), EPS);
    }

    @Test
    void clipFractionCountsTokensWhoseClipIsActive() {
        NDArray lp = row(Math.log(0.5), Math.log(0.5));
        NDArray old = row(Math.log(0.4), Math.log(0.6));
        GrpoLoss.Result r = GrpoLoss.compute(lp, old, lp, null, lp.onesLike(), nd.create(new float[] {1f}),
                cfg(0.2, 0.2, 0, 0, Aggregation.TOKEN_MEAN));
        assertEquals(0.5, r.clipFraction().getFloat(), EPS);
    }
}
