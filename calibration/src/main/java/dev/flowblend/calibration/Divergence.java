package dev.flowblend.calibration;

import dev.flowblend.orchestrator.Backend;
import dev.flowblend.orchestrator.BackendException;
import dev.flowblend.orchestrator.Conditioning;
import dev.flowblend.orchestrator.Sampler;
import dev.flowblend.orchestrator.solver.StepReuse;
import java.util.ArrayList;
import java.util.List;

/**
 * Velocity divergence along the large model's trajectory: at every step both pools get the same
 * x_t and conditioning, guidance is applied as in sampling, and we record per sample
 * d = ||v_L - v_S|| / ||v_L|| and cos(v_L, v_S); x advances with v_L. Low divergence marks steps
 * the small model can take. Along the way each model's own step-to-step velocity change,
 * ||v(σ_k) - v(σ_{k-1})|| / ||v(σ_k)||, is the indicator step reuse is calibrated on ({@link #reuseCurve}).
 */
public final class Divergence {
    private Divergence() {
    }

    /**
     * Mean and spread (standard deviation) over samples at one step; {@code largeChange} and
     * {@code smallChange} are the mean relative velocity change of each model since the previous
     * step (0 at step 0).
     */
    public record Step(int step, double sigma, double meanRelL2, double stdRelL2, double meanCosine,
                       double stdCosine, double largeChange, double smallChange) {
        public Step(int step, double sigma, double meanRelL2, double stdRelL2, double meanCosine, double stdCosine) {
            this(step, sigma, meanRelL2, stdRelL2, meanCosine, stdCosine, 0, 0);
        }
    }

    /**
     * The step-reuse curve these steps imply: per pool, the velocity change per unit σ at each
     * step after the first, with {@code budget}.
     */
    public static StepReuse reuseCurve(List<Step> steps, String largePool, String smallPool, double budget) {
        int n = steps.size() - 1;
        double[] sigma = new double[n];
        double[] large = new double[n];
        double[] small = new double[n];
        for (int k = 1; k <= n; k++) {
            Step s = steps.get(k);
            double dSigma = Math.abs(steps.get(k - 1).sigma() - s.sigma());
            sigma[k - 1] = s.sigma();
            large[k - 1] = s.largeChange() / dSigma;
            small[k - 1] = s.smallChange() / dSigma;
        }
        return new StepReuse(budget, sigma, java.util.Map.of(largePool, large, smallPool, small));
    }

    public static List<Step> measure(BatchGenerator gen, List<PromptSet.Sample> samples, int steps, double guidance,
                                     String largePool, String smallPool, Runnable onStep) throws BackendException {
        double[] sigmas = gen.generator().sigmas(steps);
        double[][] rel = new double[steps][samples.size()];
        double[][] cos = new double[steps][samples.size()];
        double[][] change = new double[2 * steps][samples.size()];  // large at k, small at steps + k
        for (int start = 0; start < samples.size(); start += gen.chunk()) {
            List<PromptSet.Sample> part = samples.subList(start, Math.min(samples.size(), start + gen.chunk()));
            along(gen, part, start, sigmas, guidance, largePool, smallPool, rel, cos, change, onStep);
        }
        List<Step> out = new ArrayList<>(steps);
        for (int k = 0; k < steps; k++) {
            out.add(new Step(k, sigmas[k], mean(rel[k]), std(rel[k]), mean(cos[k]), std(cos[k]), mean(change[k]),
                    mean(change[steps + k])));
        }
        return out;
    }

    private static void along(BatchGenerator gen, List<PromptSet.Sample> samples, int offset, double[] sigmas,
                              double guidance, String largePool, String smallPool, double[][] rel, double[][] cos,
                              double[][] change, Runnable onStep) throws BackendException {
        Backend backend = gen.generator().backend();
        double timestepScale = gen.generator().family().conventions().timestepScale();
        int n = gen.generator().family().conventions().latentElements();
        int s = samples.size();
        boolean cfg = guidance != 1.0;
        Conditioning cond = gen.conditioning(samples, cfg);
        int batch = cond.batch();
        float[] x = BatchGenerator.noise(samples, n);
        float[] in = new float[n * batch];
        float[] t = new float[batch];
        float[] prevL = null;
        float[] prevS = null;
        for (int k = 0; k < rel.length; k++) {
            System.arraycopy(x, 0, in, 0, n * s);
            if (cfg) {
                System.arraycopy(x, 0, in, n * s, n * s);
            }
            java.util.Arrays.fill(t, (float) (sigmas[k] * timestepScale));
            float[] vl = guided(backend.velocity(largePool, in, t, cond, batch).values(), n * s, cfg, (float) guidance);
            float[] vs = guided(backend.velocity(smallPool, in, t, cond, batch).values(), n * s, cfg, (float) guidance);
            float dt = (float) (sigmas[k + 1] - sigmas[k]);
            for (int i = 0; i < s; i++) {
                float[] a = java.util.Arrays.copyOfRange(vl, i * n, (i + 1) * n);
                float[] b = java.util.Arrays.copyOfRange(vs, i * n, (i + 1) * n);
                rel[k][offset + i] = Metrics.relativeL2(a, b);
                cos[k][offset + i] = Metrics.cosine(a, b);
                if (prevL != null) {
                    change[k][offset + i] = Metrics.relativeL2(a, java.util.Arrays.copyOfRange(prevL, i * n, (i + 1) * n));
                    change[rel.length + k][offset + i] = Metrics.relativeL2(b,
                            java.util.Arrays.copyOfRange(prevS, i * n, (i + 1) * n));
                }
            }
            prevL = vl;
            prevS = vs;
            for (int i = 0; i < n * s; i++) {
                x[i] = x[i] + dt * vl[i];
            }
            onStep.run();
        }
    }

    private static float[] guided(float[] v, int total, boolean cfg, float g) {
        if (!cfg) {
            return v;
        }
        float[] out = new float[total];
        for (int i = 0; i < total; i++) {
            out[i] = Sampler.guided(v[total + i], v[i], g);
        }
        return out;
    }

    static double mean(double[] a) {
        double s = 0;
        for (double v : a) {
            s += v;
        }
        return s / a.length;
    }

    static double std(double[] a) {
        double m = mean(a), s = 0;
        for (double v : a) {
            s += (v - m) * (v - m);
        }
        return a.length < 2 ? 0 : Math.sqrt(s / (a.length - 1));
    }
}
