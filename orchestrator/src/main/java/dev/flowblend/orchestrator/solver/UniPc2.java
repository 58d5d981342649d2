package dev.flowblend.orchestrator.solver;

/**
 * UniPC of order 2 with the B(h) = e^h - 1 variant ("bh2"), data prediction, in flow form: the
 * predictor UniP-2 (for order 2 the same update as DPM-Solver++(2M)) and the corrector UniC, which
 * refines x_k with the model output at x_k before the next prediction, at no extra model call. As WAN's
 * reference {@code FlowUniPCMultistepScheduler} with {@code solver_order=2}, {@code lower_order_final}.
 *
 * <p>With α = 1 - σ, λ = ln α - ln σ and D = x - σ v, at step k (h = λ_k - λ_{k-1} for the corrector):
 * <ul>
 *   <li>corrector: x_k ← (σ_k/σ_{k-1}) x̃_{k-1} - α_k φ D_{k-1} - α_k B (ρ_0 D1 + ρ_1 (D_k - D_{k-1})), where x̃
 *       is the corrected previous latent, φ = B = e^{-h} - 1, D1 = (D_{k-2} - D_{k-1}) / r, r = (λ_{k-2} - λ_{k-1}) / h,
 *       ρ solving [[1, 1], [r, 1]] ρ = (b_1, b_2); at order 1, only ρ_1 = 1/2;</li>
 *   <li>predictor: x_{k+1} = (σ_{k+1}/σ_k) x_k - α_{k+1} φ D_k - α_{k+1} B (D_{k-1} - D_k) / (2 r), r = (λ_{k-1} - λ_k) / h,
 *       the last term only at order 2.</li>
 * </ul>
 * The order ramps up from 1 (warm-up) and falls to 1 at the last step. A history point at σ = 1,
 * where λ = -∞, carries no weight in the limit and is dropped (WAN avoids it by starting at
 * σ = 0.999); after {@link Run#resetHistory} the next step is a first step: no corrector, Euler.
 */
public final class UniPc2 extends NamedSolver {
    public static final String NAME = "unipc";
    public static final UniPc2 INSTANCE = new UniPc2();

    private UniPc2() {
        super(NAME, 2);
    }

    @Override
    public Solver.Run start(double[] sigmas, int length) {
        return new State(sigmas, length);
    }

    private static final class State implements Solver.Run {
        private final double[] sigmas;
        private final int steps;
        private final float[] d1;      // D_{k-1}
        private final float[] d2;      // D_{k-2}
        private final float[] last;    // the corrected latent the last predictor started from
        private final float[] d;       // D_k, scratch
        private int known;             // how many of D_{k-1}, D_{k-2} hold this trajectory's values
        private int lastOrder;         // the order of the last predictor step, that of this corrector

        State(double[] sigmas, int length) {
            this.sigmas = sigmas;
            this.steps = sigmas.length - 1;
            this.d1 = new float[length];
            this.d2 = new float[length];
            this.last = new float[length];
            this.d = new float[length];
        }

        @Override
        public void step(int k, float[] x, float[] v) {
            float sk = (float) sigmas[k];
            for (int i = 0; i < x.length; i++) {
                d[i] = x[i] - sk * v[i];
            }
            if (known > 0) {
                correct(k, x);
            }
            int order = Math.min(Math.min(2, steps - k), known + 1);
            System.arraycopy(x, 0, last, 0, x.length);
            predict(k, x, order == 2 && Double.isFinite(lambda(k - 1)));
            System.arraycopy(d1, 0, d2, 0, d.length);
            System.arraycopy(d, 0, d1, 0, d.length);
            known = Math.min(2, known + 1);
            lastOrder = order;
        }

        private double lambda(int k) {
            return DpmSolver2M.lambda(sigmas[k]);
        }

        /** UniC: x (the latent at σ_k, predicted from {@link #last}) corrected with D_k. */
        private void correct(int k, float[] x) {
            double h = lambda(k) - lambda(k - 1);
            double hh = -h;
            double phi1 = Math.expm1(hh);
            double bh = phi1;                   // bh2: B(h) = e^{hh} - 1
            double rho0 = 0;
            double rho1 = 0.5;
            boolean second = lastOrder == 2 && known == 2 && Double.isFinite(lambda(k - 2));
            double r = second ? (lambda(k - 2) - lambda(k - 1)) / h : 0;
            if (second) {
                double phik = phi1 / hh - 1;
                double b1 = phik / bh;
                double b2 = (phik / hh - 0.5) * 2 / bh;
                rho0 = (b1 - b2) / (1 - r);
                rho1 = b1 - rho0;
            }
            double alpha = 1 - sigmas[k];
            float a = (float) (sigmas[k] / sigmas[k - 1]);
            float c0 = (float) (-alpha * phi1);
            float cd = (float) (-alpha * bh * rho0 / (second ? r : 1));
            float ct = (float) (-alpha * bh * rho1);
            for (int i = 0; i < x.length; i++) {
                float corr = second ? cd * (d2[i] - d1[i]) : 0f;
                x[i] = a * last[i] + c0 * d1[i] + corr + ct * (d[i] - d1[i]);
            }
        }

        /** UniP: x ← the latent at σ_{k+1}, from x and D_k (and D_{k-1} at order 2). */
        private void predict(int k, float[] x, boolean second) {
            if (!second) {
                // first order is DPM-Solver++(1), which for this parameterisation is exactly Euler; but
                // x was corrected, so D_k = x_uncorrected - σ v must not be recomputed from it
                double next = sigmas[k + 1];
                double h = DpmSolver2M.lambda(next) - lambda(k);
                float a = (float) (next / sigmas[k]);
                float b = (float) ((1 - next) * -Math.expm1(-h));
                for (int i = 0; i < x.length; i++) {
                    x[i] = a * x[i] + b * d[i];
                }
                return;
            }
            double next = sigmas[k + 1];
            double h = DpmSolver2M.lambda(next) - lambda(k);
            double r = (lambda(k - 1) - lambda(k)) / h;
            double alpha = 1 - next;
            double phi1 = Math.expm1(-h);
            float a = (float) (next / sigmas[k]);
            float b = (float) (-alpha * phi1);
            float c = (float) (-alpha * phi1 * 0.5 / r);
            for (int i = 0; i < x.length; i++) {
                x[i] = a * x[i] + b * d[i] + c * (d1[i] - d[i]);
            }
        }

        @Override
        public void resetHistory() {
            known = 0;
        }
    }
}
