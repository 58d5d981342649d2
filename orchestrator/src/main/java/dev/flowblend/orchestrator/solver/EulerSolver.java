package dev.flowblend.orchestrator.solver;

/**
 * First-order Euler: x_{k+1} = x_k + (σ_{k+1} - σ_k) v_k, in float, one multiply-add per value in
 * index order, so every backend that returns the same velocities yields the same latent bits. It is
 * also the first-order step every multistep solver takes while its history is empty.
 */
public final class EulerSolver extends NamedSolver {
    public static final String NAME = "euler";
    public static final EulerSolver INSTANCE = new EulerSolver();

    private EulerSolver() {
        super(NAME, 1);
    }

    @Override
    public Run start(double[] sigmas, int length) {
        return new Run() {
            @Override
            public void step(int k, float[] x, float[] velocity) {
                euler(sigmas, k, x, velocity);
            }

            @Override
            public void resetHistory() {
            }
        };
    }

    /** The Euler update of step k, in place; shared with the multistep solvers' first-order steps. */
    static void euler(double[] sigmas, int k, float[] x, float[] v) {
        float dt = (float) (sigmas[k + 1] - sigmas[k]);
        for (int i = 0; i < x.length; i++) {
            x[i] = x[i] + dt * v[i];
        }
    }
}
