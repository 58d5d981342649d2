package dev.flowblend.orchestrator.solver;

/**
 * DPM-Solver++(2M), the multistep second-order data-prediction solver (Lu et al. 2022), in its
 * flow-prediction form as WAN's reference sampler and diffusers use it, midpoint variant.
 *
 * <p>With α = 1 - σ, λ = ln α - ln σ, h = λ_{k+1} - λ_k, D_k = x_k - σ_k v_k (the data prediction):
 * x_{k+1} = (σ_{k+1}/σ_k) x_k + α_{k+1} (1 - e^{-h}) (D_k + (D_k - D_{k-1}) / (2 r)), r = h_{k-1} / h.
 * Without a previous D (the first step, after {@link Run#resetHistory}, or when λ_{k-1} is -∞ at
 * σ = 1) the update is first order, which for this parameterisation is exactly Euler; the last step
 * (σ_{k+1} = 0, λ = ∞) is first order too, as diffusers' {@code final_sigmas_type="zero"} makes it.
 */
public final class DpmSolver2M extends NamedSolver {
    public static final String NAME = "dpm++2m";
    public static final DpmSolver2M INSTANCE = new DpmSolver2M();

    private DpmSolver2M() {
        super(NAME, 2);
    }

    @Override
    public Solver.Run start(double[] sigmas, int length) {
        return new History(sigmas, length);
    }

    static double lambda(double sigma) {
        return Math.log(1 - sigma) - Math.log(sigma);
    }

    /** The previous step's data prediction and its λ; one trajectory's state. */
    private static final class History implements Solver.Run {
        private final double[] sigmas;
        private final float[] prevData;
        private boolean hasPrev;
        private double prevLambda;

        History(double[] sigmas, int length) {
            this.sigmas = sigmas;
            this.prevData = new float[length];
        }

        @Override
        public void step(int k, float[] x, float[] v) {
            double s = sigmas[k];
            double next = sigmas[k + 1];
            double lam = lambda(s);
            boolean secondOrder = hasPrev && next > 0 && Double.isFinite(prevLambda) && Double.isFinite(lam);
            if (!secondOrder) {
                remember(x, v, (float) s, lam);
                EulerSolver.euler(sigmas, k, x, v);
                return;
            }
            double h = lambda(next) - lam;
            double r = (lam - prevLambda) / h;
            float a = (float) (next / s);
            float b = (float) ((1 - next) * -Math.expm1(-h));  // α_{k+1} (1 - e^{-h})
            float c = (float) (0.5 / r);
            float sf = (float) s;
            for (int i = 0; i < x.length; i++) {
                float d = x[i] - sf * v[i];
                float dd = d + c * (d - prevData[i]);
                prevData[i] = d;
                x[i] = a * x[i] + b * dd;
            }
            prevLambda = lam;
        }

        private void remember(float[] x, float[] v, float s, double lam) {
            for (int i = 0; i < x.length; i++) {
                prevData[i] = x[i] - s * v[i];
            }
            prevLambda = lam;
            hasPrev = true;
        }

        @Override
        public void resetHistory() {
            hasPrev = false;
        }
    }
}
