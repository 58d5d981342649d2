package dev.flowblend.calibration;

import dev.flowblend.orchestrator.StagePlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Chooses which large-small-large plans to generate. Each candidate LSL(e, l) (small from step
 * fraction e to l) gets a predicted cost from the divergence curve: the error it injects,
 * sum over its small steps of |sigma_{k+1} - sigma_k| * d_k. Assuming pass/fail is monotone in that
 * cost, a bisection over candidates sorted by cost finds the pass boundary with O(log n)
 * generations; the cheapest plan (by FLOPs) predicted to pass is then verified, and the next one
 * tried if it fails. Pure logic over a {@link Judge}; the evaluation budget bounds generations.
 */
public final class Search {

    /** Generates and measures one plan; true when it meets the tolerances. */
    public interface Judge {
        boolean passes(StagePlan plan) throws Exception;
    }

    /** A grid plan with its cost figures. */
    public record Candidate(StagePlan plan, double early, double late, double flops, double divergenceCost) {
    }

    private Search() {
    }

    /**
     * LSL(e, l) for e in the early grid and l > e in the late grid (l = 1 means small to the end,
     * e = 0 small from the start).
     */
    public static List<Candidate> grid(double[] earlyGrid, double[] lateGrid, int steps, double[] sigmas,
                                       double[] divergence, double largeFlops, double smallFlops) {
        List<Candidate> out = new ArrayList<>();
        for (double e : earlyGrid) {
            for (double l : lateGrid) {
                int a = (int) Math.round(e * steps), b = (int) Math.round(l * steps);
                if (a < 0 || b <= a || b > steps || (a == 0 && b == steps)) {
                    continue;  // a = 0 and b = steps would be small-only, which is no candidate
                }
                // large until a (absent when a = 0), small until b, large to the end (absent when b = steps)
                List<StagePlan.Segment> segments = new ArrayList<>();
                if (a > 0) {
                    segments.add(new StagePlan.Segment(StagePlan.LARGE, a / (double) steps));
                }
                segments.add(new StagePlan.Segment(StagePlan.SMALL, b / (double) steps));
                if (b < steps) {
                    segments.add(new StagePlan.Segment(StagePlan.LARGE, 1.0));
                }
                StagePlan plan = new StagePlan(name(e, l), StagePlan.Unit.STEP_FRACTION, segments);
                double cost = 0;
                for (int k = a; k < b; k++) {
                    cost += Math.abs(sigmas[k + 1] - sigmas[k]) * divergence[k];
                }
                double flops = (steps - (b - a)) * largeFlops + (b - a) * smallFlops;
                out.add(new Candidate(plan, a / (double) steps, b / (double) steps, flops, cost));
            }
        }
        return out;
    }

    static String name(double e, double l) {
        return String.format(Locale.ROOT, "lsl-%02d-%02d", Math.round(e * 100), Math.round(l * 100));
    }

    /** The outcome: the chosen candidate (null if none passed) and what was evaluated, in order. */
    public record Result(Candidate chosen, List<Candidate> evaluated, List<Boolean> passed) {
    }

    public static Result run(List<Candidate> candidates, Judge judge, int budget) throws Exception {
        List<Candidate> byCost = new ArrayList<>(candidates);
        byCost.sort(Comparator.comparingDouble(Candidate::divergenceCost).thenComparingDouble(Candidate::flops));
        List<Candidate> evaluated = new ArrayList<>();
        List<Boolean> passed = new ArrayList<>();
        // bisection for the last index (in cost order) that passes
        int lo = -1, hi = byCost.size();
        while (hi - lo > 1 && evaluated.size() < budget) {
            int mid = (lo + hi) >>> 1;
            boolean ok = evaluate(byCost.get(mid), judge, evaluated, passed);
            if (ok) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        // verify the cheapest predicted-passing candidates, cheapest first
        List<Candidate> predicted = new ArrayList<>(byCost.subList(0, lo + 1));
        predicted.sort(Comparator.comparingDouble(Candidate::flops).thenComparingDouble(Candidate::divergenceCost));
        for (Candidate c : predicted) {
            int i = evaluated.indexOf(c);
            if (i >= 0 && passed.get(i)) {
                return new Result(c, evaluated, passed);
            }
            if (i < 0) {
                if (evaluated.size() >= budget) {
                    break;
                }
                if (evaluate(c, judge, evaluated, passed)) {
                    return new Result(c, evaluated, passed);
                }
            }
        }
        // fall back to the cheapest candidate that passed at all
        Candidate best = null;
        for (int i = 0; i < evaluated.size(); i++) {
            if (passed.get(i) && (best == null || evaluated.get(i).flops() < best.flops())) {
                best = evaluated.get(i);
            }
        }
        return new Result(best, evaluated, passed);
    }

    private static boolean evaluate(Candidate c, Judge judge, List<Candidate> evaluated, List<Boolean> passed)
            throws Exception {
        boolean ok = judge.passes(c.plan());
        evaluated.add(c);
        passed.add(ok);
        return ok;
    }
}
