package dev.flowblend.orchestrator.solver;

import java.util.List;
import java.util.Locale;

/**
 * A flow-matching ODE solver: how the latent moves from σ_k to σ_{k+1} given the (guided) velocity
 * the model returned at σ_k. The scheduler half of diffusers' split; {@code Sampler} is the loop
 * that drives it (timesteps, model calls, cancellation) and knows no solver's formulas.
 *
 * <p>Conventions (our manifests' "flow" convention): x_σ = (1 - σ) x0 + σ noise, velocity = noise - x0,
 * so the data prediction at σ is x0 = x - σ v and α_σ = 1 - σ.
 *
 * <p>A solver is an immutable, thread-safe factory; each generation gets its own {@link Run}, which
 * holds the multistep history and is used by one thread at a time, steps in order.
 */
public interface Solver {

    /** The wire name ("euler", "dpm++2m", "unipc"): in requests, plan files, manifests and reports. */
    String name();

    /** The order of accuracy the solver reaches once its history is full. */
    int order();

    /** A fresh state for one trajectory over {@code sigmas} (σ_0..σ_N) of latents of {@code length} values. */
    Run start(double[] sigmas, int length);

    /** One trajectory's solver state. Not thread-safe: one thread at a time, steps 0, 1, ... in order. */
    interface Run {
        /**
         * Step k: replaces {@code x} (the latent at σ_k) with the latent at σ_{k+1}, given
         * {@code velocity} at (x, σ_k). Neither array changes length; {@code velocity} is not kept.
         */
        void step(int k, float[] x, float[] velocity);

        /** Forgets the history, so the next step is first order (Euler), as the first one is. */
        void resetHistory();
    }

    /** Every solver this build offers, in the order reports list them. */
    List<Solver> ALL = List.of(EulerSolver.INSTANCE, DpmSolver2M.INSTANCE, UniPc2.INSTANCE);

    /** The solver of wire name {@code name} (case-insensitive); the error names {@code field} and the choices. */
    static Solver named(String name, String field) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (Solver s : ALL) {
            if (s.name().equals(n)) {
                return s;
            }
        }
        throw new IllegalArgumentException(field + " is '" + name + "'; must be one of "
                + ALL.stream().map(Solver::name).toList());
    }
}
