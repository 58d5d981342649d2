package dev.flowblend.orchestrator.solver;

/** A solver's wire name and order, the part every solver has alike. */
abstract class NamedSolver implements Solver {
    private final String name;
    private final int order;

    NamedSolver(String name, int order) {
        this.name = name;
        this.order = order;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int order() {
        return order;
    }

    @Override
    public final String toString() {
        return name;
    }
}
