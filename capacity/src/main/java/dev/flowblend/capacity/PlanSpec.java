package dev.flowblend.capacity;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which pool serves each sampling step: a preset name ({@code "flowblending"}, {@code
 * "large-only"}, {@code "small-only"}, the orchestrator's StagePlan presets) or segments by step
 * fraction, {@code {"steps": 50, "pools": ["large","small","large"], "bounds": [0.4, 0.8, 1.0]}}.
 * Step k belongs to the first segment with k < round(bound * steps), the orchestrator's rule
 * (StagePlan.resolve), so both send the same steps to the same pools; the CLI's tests check that
 * they agree. In JSON either the preset name as a string or the object. Immutable.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PlanSpec(String preset, Integer steps, List<String> pools, List<Double> bounds) {
    public static final int DEFAULT_STEPS = 50;
    static final int MAX_STEPS = 1000;  // the demo deployment's limits.max_steps
    /** The orchestrator's presets (StagePlan.PRESETS), as pools and step-fraction bounds. */
    static final Map<String, List<Object>> PRESETS = Map.of(
            "flowblending", List.of(List.of("large", "small", "large"), List.of(0.4, 0.8, 1.0)),
            "large-only", List.of(List.of("large"), List.of(1.0)),
            "small-only", List.of(List.of("small"), List.of(1.0)));

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public PlanSpec {
        steps = steps == null ? DEFAULT_STEPS : steps;
        pools = pools == null ? null : List.copyOf(pools);
        bounds = bounds == null ? null : List.copyOf(bounds);
    }

    /** {@code "plan": "flowblending"}: a preset at the default step count. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static PlanSpec preset(String name) {
        return new PlanSpec(name, null, null, null);
    }

    public static PlanSpec preset(String name, int steps) {
        return new PlanSpec(name, steps, null, null);
    }

    public static PlanSpec segments(int steps, List<String> pools, List<Double> bounds) {
        return new PlanSpec(null, steps, pools, bounds);
    }

    /** This plan at another step count. */
    public PlanSpec withSteps(int n) {
        return new PlanSpec(preset, n, pools, bounds);
    }

    /** The segments' pools, in order (a preset's included). */
    @SuppressWarnings("unchecked")
    public List<String> segmentPools() {
        return preset != null ? (List<String>) PRESETS.get(preset).get(0) : pools;
    }

    @SuppressWarnings("unchecked")
    public List<Double> segmentBounds() {
        return preset != null ? (List<Double>) PRESETS.get(preset).get(1) : bounds;
    }

    /** The pool of every step, by the orchestrator's rule. */
    public String[] resolve() {
        List<String> p = segmentPools();
        List<Double> b = segmentBounds();
        String[] out = new String[steps];
        for (int k = 0; k < steps; k++) {
            for (int s = 0; s < p.size(); s++) {
                if (k < Math.round(b.get(s) * steps)) {
                    out[k] = p.get(s);
                    break;
                }
            }
            if (out[k] == null) {
                out[k] = p.get(p.size() - 1);
            }
        }
        return out;
    }

    /**
     * The plan's name as costs files key per-plan costs by it ({@code by_plan}): the preset's name,
     * or the segments as "large:0.4,small:0.8,large:1" (no step count).
     */
    public String key() {
        String d = describe();
        return d.substring(0, d.lastIndexOf(" ("));
    }

    /** "flowblending" or "large:0.4,small:0.8,large:1.0", with the step count. */
    public String describe() {
        if (preset != null) {
            return preset + " (" + steps + " steps)";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < pools.size(); i++) {
            b.append(i == 0 ? "" : ",").append(pools.get(i)).append(':').append(Check.show(bounds.get(i)));
        }
        return b + " (" + steps + " steps)";
    }

    void check(String path) {
        Check.range(path + ".steps", steps, 1, MAX_STEPS);
        if (preset != null) {
            Check.that(PRESETS.containsKey(preset), path + " is '" + preset + "'; must be a preset "
                    + new ArrayList<>(new java.util.TreeSet<>(PRESETS.keySet())) + " or {\"steps\", \"pools\", \"bounds\"}");
            Check.that(pools == null && bounds == null, path + ".preset '" + preset + "' comes with pools or bounds; give one or the other");
            return;
        }
        Check.that(pools != null && !pools.isEmpty(), path + ".pools is missing; must list the pool of each segment, e.g. [\"large\", \"small\", \"large\"]");
        Check.that(bounds != null, path + ".bounds is missing; must list where each segment ends as a step fraction, e.g. [0.4, 0.8, 1.0]");
        Check.that(bounds.size() == pools.size(), path + ".bounds has " + bounds.size() + " values; must have one per pool ("
                + pools.size() + ")");
        double prev = 0;
        for (int i = 0; i < pools.size(); i++) {
            Check.that(!pools.get(i).isBlank(), path + ".pools[" + i + "] is empty; must name a pool");
            double end = bounds.get(i);
            Check.that(end > prev && end <= 1.0, path + ".bounds[" + i + "] is " + Check.show(end)
                    + "; must be > " + Check.show(prev) + " and <= 1 (bounds increase strictly)");
            prev = end;
        }
        Check.that(prev == 1.0, path + ".bounds[" + (pools.size() - 1) + "] is " + Check.show(prev)
                + "; must be 1 (the segments cover every step)");
    }
}
