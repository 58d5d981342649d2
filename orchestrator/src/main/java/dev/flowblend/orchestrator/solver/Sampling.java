package dev.flowblend.orchestrator.solver;

import java.util.Objects;

/**
 * How a trajectory is integrated: the solver, what its history does at a pool switch, and which
 * steps may reuse their pool's last velocity (null: none). Immutable.
 */
public record Sampling(Solver solver, HistoryAtSwitch history, StepReuse reuse) {
    /** Euler, no reuse: how every generation was sampled before solvers were a choice. */
    public static final Sampling EULER = new Sampling(EulerSolver.INSTANCE, HistoryAtSwitch.CARRY, null);

    public Sampling {
        Objects.requireNonNull(solver, "solver");
        Objects.requireNonNull(history, "history");
    }

    /** Which steps reuse the last velocity; null when none may. */
    public boolean[] reused(String[] pools, double[] sigmas) {
        return reuse == null ? null : reuse.schedule(pools, sigmas);
    }
}
