package dev.flowblend.orchestrator;

/**
 * The shifted flow-matching noise schedule: sigma_k = shift(1 - k/N) for k = 0..N, where
 * shift(s) = a*s / (1 + (a-1)*s). sigma_0 = 1 (pure noise), sigma_N = 0 (data). Stateless.
 */
public final class SigmaSchedule {
    private SigmaSchedule() {
    }

    public static double[] sigmas(int steps, double shift) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps is " + steps + "; must be >= 1");
        }
        if (!(shift > 0)) {
            throw new IllegalArgumentException("sigma shift is " + shift + "; must be > 0");
        }
        double[] s = new double[steps + 1];
        for (int k = 0; k <= steps; k++) {
            double base = 1.0 - (double) k / steps;
            s[k] = shift * base / (1 + (shift - 1) * base);
        }
        s[steps] = 0.0;
        return s;
    }
}
