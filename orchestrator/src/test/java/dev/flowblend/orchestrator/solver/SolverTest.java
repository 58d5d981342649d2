package dev.flowblend.orchestrator.solver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.orchestrator.SigmaSchedule;
import org.junit.jupiter.api.Test;

/**
 * Each solver against hand-computed steps, and against the exact flow of Gaussian data: for
 * x0 ~ N(μ, s²) per value the velocity field is known in closed form and the flow keeps every value's
 * z-score, so the trajectory from noise ε ends exactly at μ + s ε, and each solver's error must fall
 * with its order as the steps double.
 */
class SolverTest {
    private static final double MU = 0.7;
    private static final double S = 0.3;

    /** E[noise - x0 | x_σ = x] for x0 ~ N(MU, S²), noise ~ N(0, 1). */
    static double exactVelocity(double x, double sigma) {
        double a = 1 - sigma;
        double var = a * a * S * S + sigma * sigma;
        double centred = x - a * MU;
        double x0 = MU + a * S * S / var * centred;
        double noise = sigma / var * centred;
        return noise - x0;
    }

    /** The exact trajectory through z-score {@code z}: x_σ = (1 - σ) MU + sqrt((1 - σ)² S² + σ²) z. */
    static double exact(double z, double sigma) {
        double a = 1 - sigma;
        return a * MU + Math.sqrt(a * a * S * S + sigma * sigma) * z;
    }

    /** Max over a few z-scores of the error at σ_N after sampling from the exact x at σ_0. */
    static double error(Solver solver, double[] sigmas) {
        double[] z = {-1.5, -0.4, 0.2, 1.1, 2.0};
        float[] x = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            x[i] = (float) exact(z[i], sigmas[0]);
        }
        Solver.Run run = solver.start(sigmas, x.length);
        float[] v = new float[x.length];
        int steps = sigmas.length - 1;
        for (int k = 0; k < steps; k++) {
            for (int i = 0; i < x.length; i++) {
                v[i] = (float) exactVelocity(x[i], sigmas[k]);
            }
            run.step(k, x, v);
        }
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            worst = Math.max(worst, Math.abs(x[i] - exact(z[i], sigmas[steps])));
        }
        return worst;
    }

    /** N uniform steps from σ = 0.9 to 0.1, away from the ends where λ = ln(α/σ) is infinite. */
    static double[] interior(int steps) {
        double[] s = new double[steps + 1];
        for (int k = 0; k <= steps; k++) {
            s[k] = 0.9 - 0.8 * k / steps;
        }
        return s;
    }

    @Test
    void eulerStepIsTheFloatMultiplyAdd() {
        double[] sigmas = {1.0, 0.75, 0.0};
        float[] x = {0.5f, -2f};
        EulerSolver.INSTANCE.start(sigmas, 2).step(0, x, new float[] {2f, 1f});
        assertArrayEquals(new float[] {0.5f + (-0.25f) * 2f, -2f + (-0.25f) * 1f}, x);
    }

    @Test
    void dpmSecondStepMatchesTheHandComputedUpdate() {
        double[] sigmas = {0.8, 0.5, 0.2, 0.0};
        Solver.Run run = DpmSolver2M.INSTANCE.start(sigmas, 1);
        float[] x = {1.0f};
        run.step(0, x, new float[] {2.0f});           // first order: Euler
        assertEquals(1.0f + (float) (0.5 - 0.8) * 2.0f, x[0]);
        double x1 = x[0];
        double d0 = 1.0 - 0.8 * 2.0;                   // D at σ=0.8 from step 0
        run.step(1, x, new float[] {0.5f});
        double d1 = x1 - 0.5 * 0.5;
        double l0 = Math.log(0.2 / 0.8);
        double l1 = Math.log(0.5 / 0.5);
        double l2 = Math.log(0.8 / 0.2);
        double h = l2 - l1;
        double r = (l1 - l0) / h;
        double expected = (0.2 / 0.5) * x1 + 0.8 * (1 - Math.exp(-h)) * (d1 + (d1 - d0) / (2 * r));
        assertEquals(expected, x[0], 1e-6);
        float beforeLast = x[0];
        run.step(2, x, new float[] {0.25f});          // σ_{k+1} = 0: first order, x ← D
        assertEquals(beforeLast - 0.2f * 0.25f, x[0], 1e-7);
    }

    @Test
    void uniPcCorrectsThenPredictsAsHandComputed() {
        double[] sigmas = {0.8, 0.5, 0.2, 0.0};
        Solver.Run run = UniPc2.INSTANCE.start(sigmas, 1);
        float[] x = {1.0f};
        run.step(0, x, new float[] {2.0f});                      // warm-up: Euler
        double x0 = 1.0;
        double d0 = x0 - 0.8 * 2.0;
        double x1 = x[0];
        assertEquals(1.0f + (float) (0.5 - 0.8) * 2.0f, x[0], 1e-7);
        run.step(1, x, new float[] {0.5f});
        double d1 = x1 - 0.5 * 0.5;                               // D at the predicted, uncorrected x_1
        double h = lam(0.5) - lam(0.8);
        double phi = Math.expm1(-h);
        double corrected = (0.5 / 0.8) * x0 - 0.5 * phi * d0 - 0.5 * phi * 0.5 * (d1 - d0);
        double h2 = lam(0.2) - lam(0.5);
        double r = (lam(0.8) - lam(0.5)) / h2;
        double phi2 = Math.expm1(-h2);
        double expected = (0.2 / 0.5) * corrected - 0.8 * phi2 * d1 - 0.8 * phi2 * (d0 - d1) / (2 * r);
        assertEquals(expected, x[0], 1e-6);
    }

    private static double lam(double sigma) {
        return Math.log((1 - sigma) / sigma);
    }

    @Test
    void resetMakesTheNextStepFirstOrder() {
        double[] sigmas = SigmaSchedule.sigmas(6, 3.0);
        float[] a = {0.3f};
        float[] b = {0.3f};
        Solver.Run reset = DpmSolver2M.INSTANCE.start(sigmas, 1);
        Solver.Run euler = EulerSolver.INSTANCE.start(sigmas, 1);
        for (int k = 0; k < 6; k++) {
            float[] v = {(float) exactVelocity(a[0], sigmas[k])};
            reset.resetHistory();
            reset.step(k, a, v);
            euler.step(k, b, new float[] {(float) exactVelocity(b[0], sigmas[k])});
            assertEquals(b[0], a[0], 0f, "step " + k);
        }
    }

    @Test
    void eulerConvergesAtFirstOrder() {
        double ratio = error(EulerSolver.INSTANCE, interior(80)) / error(EulerSolver.INSTANCE, interior(160));
        assertEquals(2.0, ratio, 0.1);
    }

    @Test
    void dpmSolver2MConvergesAtSecondOrder() {
        double ratio = error(DpmSolver2M.INSTANCE, interior(80)) / error(DpmSolver2M.INSTANCE, interior(160));
        assertEquals(4.0, ratio, 0.4);
    }

    @Test
    void uniPcConvergesAtSecondOrderWithItsLastStepFirstOrder() {
        double ratio = error(UniPc2.INSTANCE, interior(80)) / error(UniPc2.INSTANCE, interior(160));
        assertEquals(4.0, ratio, 0.4);
    }

    @Test
    void onTheFullShiftedScheduleBothMultistepSolversBeatEulerEightfoldAt40Steps() {
        // from pure noise (σ = 1) to data (σ = 0): both ends take first-order steps
        double[] sigmas = SigmaSchedule.sigmas(40, 3.0);
        assertTrue(error(DpmSolver2M.INSTANCE, sigmas) * 8 < error(EulerSolver.INSTANCE, sigmas));
        assertTrue(error(UniPc2.INSTANCE, sigmas) * 8 < error(EulerSolver.INSTANCE, sigmas));
    }

    @Test
    void namedSolversAndTheirErrors() {
        assertEquals(DpmSolver2M.INSTANCE, Solver.named(" DPM++2M ", "solver"));
        assertEquals(EulerSolver.INSTANCE, Solver.named("euler", "solver"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Solver.named("heun", "plan.solver"));
        assertEquals("plan.solver is 'heun'; must be one of [euler, dpm++2m, unipc]", e.getMessage());
    }
}
