package dev.flowblend.orchestrator.solver;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Step reuse at the orchestrator, in the manner of MagCache and TeaCache but model-agnostic: a step
 * may take its pool's last velocity instead of calling the model where a calibrated curve says the
 * velocity hardly changes. The curve is, per pool, the mean relative change of the velocity per
 * unit of σ, ‖v(σ_k) - v(σ_{k-1})‖ / ‖v(σ_k)‖ / |σ_k - σ_{k-1}|, sampled at descending σ (calibrate
 * measures it along large-only trajectories). A step's predicted change is the rate at its σ times
 * its |Δσ|; consecutive steps are reused while the predicted change accumulated since the last
 * model call stays within {@code budget}.
 *
 * <p>Never reused: the first step, the last (it sets the finest detail), and any step whose pool
 * differs from the previous step's, so a reused velocity always comes from the same model. The
 * schedule depends only on the plan, σ and the curve, never on a request's values, so every
 * backend reuses the same steps and results stay bitwise equal. Immutable.
 *
 * @param budget the accumulated predicted relative change allowed between two model calls, in [0, 1]
 * @param sigma the σ values the rates are given at, strictly descending
 * @param changePerSigma pool name to its rates, one per {@code sigma}
 */
public record StepReuse(double budget, double[] sigma, @JsonProperty("change_per_sigma") Map<String, double[]> changePerSigma) {
    public StepReuse {
        if (!(budget >= 0 && budget <= 1)) {
            throw new IllegalArgumentException("reuse.budget is " + budget + "; must be 0..1");
        }
        if (sigma == null || sigma.length < 2) {
            throw new IllegalArgumentException("reuse.sigma needs at least 2 values (the calibrated curve's noise levels)");
        }
        for (int i = 1; i < sigma.length; i++) {
            if (!(sigma[i] < sigma[i - 1])) {
                throw new IllegalArgumentException("reuse.sigma[" + i + "] is " + sigma[i] + "; must be below sigma["
                        + (i - 1) + "] (" + sigma[i - 1] + ")");
            }
        }
        sigma = sigma.clone();
        if (changePerSigma == null || changePerSigma.isEmpty()) {
            throw new IllegalArgumentException("reuse.change_per_sigma is empty; give a curve for each pool that may reuse");
        }
        Map<String, double[]> copy = new TreeMap<>();
        for (Map.Entry<String, double[]> e : changePerSigma.entrySet()) {
            double[] r = e.getValue();
            if (r == null || r.length != sigma.length) {
                throw new IllegalArgumentException("reuse.change_per_sigma." + e.getKey() + " has "
                        + (r == null ? 0 : r.length) + " values; must have " + sigma.length + " (one per reuse.sigma)");
            }
            for (int i = 0; i < r.length; i++) {
                if (!(r[i] >= 0) || !Double.isFinite(r[i])) {
                    throw new IllegalArgumentException("reuse.change_per_sigma." + e.getKey() + "[" + i + "] is " + r[i]
                            + "; must be finite and >= 0");
                }
            }
            copy.put(e.getKey(), r.clone());
        }
        changePerSigma = java.util.Collections.unmodifiableMap(copy);
    }

    /** The same curve with another budget. */
    public StepReuse withBudget(double b) {
        return new StepReuse(b, sigma, changePerSigma);
    }

    /** Which steps reuse the last velocity (true) for a trajectory over {@code pools} and {@code sigmas}. */
    public boolean[] schedule(String[] pools, double[] sigmas) {
        int n = pools.length;
        boolean[] reuse = new boolean[n];
        double accumulated = 0;
        for (int k = 1; k < n - 1; k++) {
            double[] rates = changePerSigma.get(pools[k]);
            if (rates != null && pools[k].equals(pools[k - 1])) {
                double predicted = rate(rates, sigmas[k]) * Math.abs(sigmas[k] - sigmas[k - 1]);
                if (accumulated + predicted <= budget) {
                    reuse[k] = true;
                    accumulated += predicted;
                    continue;
                }
            }
            accumulated = 0;
        }
        return reuse;
    }

    /** The rate at {@code s}, linear in σ between the curve's points, the nearest end outside them. */
    double rate(double[] rates, double s) {
        if (s >= sigma[0]) {
            return rates[0];
        }
        for (int i = 1; i < sigma.length; i++) {
            if (s >= sigma[i]) {
                double t = (sigma[i - 1] - s) / (sigma[i - 1] - sigma[i]);
                return rates[i - 1] + t * (rates[i] - rates[i - 1]);
            }
        }
        return rates[rates.length - 1];
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof StepReuse r) || r.budget != budget || !Arrays.equals(r.sigma, sigma)
                || !r.changePerSigma.keySet().equals(changePerSigma.keySet())) {
            return false;
        }
        return changePerSigma.entrySet().stream().allMatch(e -> Arrays.equals(e.getValue(), r.changePerSigma.get(e.getKey())));
    }

    @Override
    public int hashCode() {
        return Double.hashCode(budget) * 31 + Arrays.hashCode(sigma);
    }

    @Override
    public String toString() {
        return "reuse budget " + budget + " for " + changePerSigma.keySet();
    }
}
