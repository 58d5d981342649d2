package dev.flowblend.calibration;

import dev.flowblend.orchestrator.StagePlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The final choice among plans that already passed calibration and validation. Taking the cheapest
 * of many noisy pass/fail verdicts favours plans that passed by luck (a sweep yields dozens), so the
 * passing plans are confirmed cheapest first on a further disjoint, larger set, and the first that
 * passes there is the choice. Records every plan it is told of; not thread-safe.
 */
public final class Selection {

    /** A plan that passed, with its FLOPs per generation. */
    public record Passed(StagePlan plan, double flops) {
    }

    /** What was chosen (null when nothing passed or none was confirmed) and each confirmation tried, in order. */
    public record Result(Passed chosen, Map<String, Boolean> confirmations) {
    }

    private final Map<String, Passed> passed = new LinkedHashMap<>();

    /** Notes a plan that passed; a plan of the same name noted twice keeps its first record. */
    public void passed(StagePlan plan, double flops) {
        passed.putIfAbsent(plan.name(), new Passed(plan, flops));
    }

    /** The plans noted, cheapest first (ties in the order they were noted). */
    public List<Passed> byFlops() {
        List<Passed> out = new ArrayList<>(passed.values());
        out.sort(Comparator.comparingDouble(Passed::flops));
        return out;
    }

    /**
     * Confirms the noted plans cheapest first with {@code confirm} and returns the first confirmed;
     * at most {@code limit} confirmations run (each generates a set of videos). A null
     * {@code confirm} means no confirmation set: the cheapest plan is the choice.
     */
    public Result choose(Search.Judge confirm, int limit) throws Exception {
        if (limit < 1) {
            throw new IllegalArgumentException("confirmation limit is " + limit + "; must be >= 1");
        }
        Map<String, Boolean> tried = new LinkedHashMap<>();
        for (Passed p : byFlops()) {
            if (confirm == null) {
                return new Result(p, tried);
            }
            if (tried.size() == limit) {
                break;
            }
            boolean ok = confirm.passes(p.plan());
            tried.put(p.plan().name(), ok);
            if (ok) {
                return new Result(p, tried);
            }
        }
        return new Result(null, tried);
    }
}
