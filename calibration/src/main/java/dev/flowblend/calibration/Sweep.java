package dev.flowblend.calibration;

import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.orchestrator.solver.HistoryAtSwitch;
import dev.flowblend.orchestrator.solver.Solver;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Calibration over the sampling space: for each solver and step count, large-only with that
 * configuration, then (if it passes) the divergence-guided boundary {@link Search} among
 * FlowBlending plans sampled the same way. Every plan is judged against the one reference the
 * tolerances name (large-only at the family's solver and steps), so the cheapest passing plan over
 * all configurations is the answer. Pure logic over a {@link Search.Judge} and a candidate source.
 */
public final class Sweep {

    /** One sampling configuration. */
    public record Config(Solver solver, int steps, HistoryAtSwitch history) {
        public Config {
            if (steps < 1) {
                throw new IllegalArgumentException("sweep steps is " + steps + "; must be >= 1");
            }
        }

        /** A short name: "unipc-10" ("-reset" when the history is reset at switches). */
        public String name() {
            return solver.name() + "-" + steps + (history == HistoryAtSwitch.RESET ? "-reset" : "");
        }

        /** {@code plan}'s segments sampled with this configuration, under a name that says both. */
        public StagePlan apply(StagePlan plan, String planName) {
            return new StagePlan(name() + "-" + planName, plan.unit(), plan.segments(), solver.name(), steps,
                    history.wireName(), null);
        }
    }

    /** The FlowBlending candidates at a step count, their FLOPs in the same units as {@link #largeOnlyFlops}. */
    public interface Candidates {
        List<Search.Candidate> at(int steps);

        double largeOnlyFlops(int steps);

        /** The FLOPs of a plan that fixes its steps. */
        double flops(StagePlan plan);
    }

    /**
     * What one configuration gave: large-only's verdict, the paper's 40/40/20 split's (a point of
     * the quality-cost curves whatever it scores), and, if large-only passed, the boundary search.
     */
    public record Row(Config config, StagePlan largeOnly, boolean largeOnlyPasses, StagePlan flowblending,
                      boolean flowblendingPasses, Search.Result search) {
    }

    /** Every row, and the cheapest passing plan of all (null if none passed) with its FLOPs. */
    public record Result(List<Row> rows, StagePlan chosen, double chosenFlops) {
    }

    private Sweep() {
    }

    /**
     * Runs every configuration in order; {@code budget} bounds the FlowBlending plans generated per
     * configuration (large-only is extra).
     */
    public static Result run(List<Config> configs, Candidates candidates, Search.Judge judge, int budget)
            throws Exception {
        List<Row> rows = new ArrayList<>();
        StagePlan best = null;
        double bestFlops = Double.POSITIVE_INFINITY;
        for (Config c : configs) {
            StagePlan lll = c.apply(StagePlan.fractions("lll", StagePlan.LARGE, 1.0), "lll");
            boolean ok = judge.passes(lll);
            StagePlan fb = c.apply(StagePlan.PRESETS.get("flowblending"), "flowblending");
            boolean fbOk = judge.passes(fb);
            if (fbOk && candidates.flops(fb) < bestFlops) {
                best = fb;
                bestFlops = candidates.flops(fb);
            }
            Search.Result search = null;
            if (ok) {
                double f = candidates.largeOnlyFlops(c.steps());
                if (f < bestFlops) {
                    best = lll;
                    bestFlops = f;
                }
                List<Search.Candidate> mine = new ArrayList<>();
                for (Search.Candidate k : candidates.at(c.steps())) {
                    mine.add(new Search.Candidate(c.apply(k.plan(), k.plan().name()), k.early(), k.late(), k.flops(),
                            k.divergenceCost()));
                }
                search = Search.run(mine, judge, budget);
                if (search.chosen() != null && search.chosen().flops() < bestFlops) {
                    best = search.chosen().plan();
                    bestFlops = search.chosen().flops();
                }
            }
            rows.add(new Row(c, lll, ok, fb, fbOk, search));
        }
        return new Result(rows, best, bestFlops);
    }

    /** Every solver at every step count, steps ascending within a solver. */
    public static List<Config> grid(List<Solver> solvers, int[] steps, HistoryAtSwitch history) {
        List<Config> out = new ArrayList<>();
        for (Solver s : solvers) {
            for (int n : java.util.Arrays.stream(steps).sorted().toArray()) {
                out.add(new Config(s, n, history));
            }
        }
        return out;
    }

    /**
     * The divergence curve measured at one schedule, read at another's sigmas by linear interpolation
     * in sigma: the velocity gap between the models is a property of the noise level, not of the step count.
     */
    public static double[] divergenceAt(List<Divergence.Step> curve, double[] sigmas) {
        int n = sigmas.length - 1;
        double[] out = new double[n];
        for (int k = 0; k < n; k++) {
            out[k] = interpolate(curve, sigmas[k]);
        }
        return out;
    }

    static double interpolate(List<Divergence.Step> curve, double sigma) {
        // the curve runs from sigma 1 down; outside it, the nearest end
        if (sigma >= curve.get(0).sigma()) {
            return curve.get(0).meanRelL2();
        }
        for (int i = 1; i < curve.size(); i++) {
            Divergence.Step a = curve.get(i - 1);
            Divergence.Step b = curve.get(i);
            if (sigma >= b.sigma()) {
                double t = (a.sigma() - sigma) / (a.sigma() - b.sigma());
                return a.meanRelL2() + t * (b.meanRelL2() - a.meanRelL2());
            }
        }
        return curve.get(curve.size() - 1).meanRelL2();
    }

    public static String describe(Row r) {
        return String.format(Locale.ROOT, "%s: large-only %s, 40/40/20 %s%s", r.config().name(),
                r.largeOnlyPasses() ? "passes" : "fails", r.flowblendingPasses() ? "passes" : "fails",
                r.search() == null || r.search().chosen() == null ? ""
                        : ", cheapest FlowBlending " + r.search().chosen().plan().describe());
    }
}
