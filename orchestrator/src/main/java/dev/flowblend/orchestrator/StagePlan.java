package dev.flowblend.orchestrator;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flowblend.orchestrator.solver.HistoryAtSwitch;
import dev.flowblend.orchestrator.solver.Sampling;
import dev.flowblend.orchestrator.solver.Solver;
import dev.flowblend.orchestrator.solver.StepReuse;
import dev.flowblend.runtime.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which pool serves which sampling step: contiguous segments in sampling order, each ending at a
 * step fraction (FlowBlending: large to 0.4, small to 0.8, large to 1.0) or at a noise level
 * (Wan 2.2: the high-noise expert while sigma >= 0.875). A plan may also fix how it is sampled:
 * {@code solver} (a {@link Solver} wire name), {@code steps}, {@code solver_history} (what the
 * solver's history does at a switch, {@link HistoryAtSwitch}) and {@code reuse} (a calibrated
 * {@link StepReuse} curve and budget); each null means the request's or the family's. Immutable and validated on construction. The plan file format is this record as JSON:
 * {"name", "unit", "segments": [{"pool", "end"}], "solver", "steps", "solver_history", "reuse"}, the last four optional.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StagePlan(String name, Unit unit, List<Segment> segments, String solver, Integer steps,
                        @JsonProperty("solver_history") String solverHistory, StepReuse reuse) {

    public static final String LARGE = "large";
    public static final String SMALL = "small";
    public static final Map<String, StagePlan> PRESETS = Map.of(
            "flowblending", fractions("flowblending", LARGE, 0.4, SMALL, 0.8, LARGE, 1.0),
            "large-only", fractions("large-only", LARGE, 1.0),
            "small-only", fractions("small-only", SMALL, 1.0));

    /** How segment ends are expressed. */
    public enum Unit {
        STEP_FRACTION, SIGMA;

        @com.fasterxml.jackson.annotation.JsonCreator
        static Unit parse(String s) {
            for (Unit u : values()) {
                if (u.name().equals(s.toUpperCase(Locale.ROOT).replace('-', '_'))) {
                    return u;
                }
            }
            throw new IllegalArgumentException("unit is '" + s + "'; must be step_fraction or sigma");
        }

        @com.fasterxml.jackson.annotation.JsonValue
        String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One run of consecutive steps on one pool, ending at {@code end}. */
    public record Segment(String pool, double end) {
        public Segment {
            if (pool == null || pool.isBlank()) {
                throw new IllegalArgumentException("segment pool is empty");
            }
            if (!Double.isFinite(end)) {
                throw new IllegalArgumentException("segment end of pool '" + pool + "' is " + end);
            }
        }
    }

    public StagePlan {
        name = name == null || name.isBlank() ? "custom" : name;
        unit = unit == null ? Unit.STEP_FRACTION : unit;
        if (segments == null || segments.isEmpty()) {
            throw new IllegalArgumentException("plan '" + name + "' has no segments (key 'segments': [{\"pool\": ..., \"end\": ...}, ...])");
        }
        segments = List.copyOf(segments);
        double prev = unit == Unit.STEP_FRACTION ? 0.0 : 1.0;
        for (int i = 0; i < segments.size(); i++) {
            double end = segments.get(i).end();
            boolean last = i == segments.size() - 1;
            if (unit == Unit.STEP_FRACTION) {
                if (!(end > prev) || end > 1.0) {
                    throw new IllegalArgumentException("plan '" + name + "' segment " + i + " ends at step fraction " + end
                            + "; ends must increase strictly within (0, 1]");
                }
                if (last && end != 1.0) {
                    throw new IllegalArgumentException("plan '" + name + "' ends at step fraction " + end
                            + "; segments must cover the whole trajectory (the last must end at 1.0)");
                }
            } else {
                if (!(end < prev) || end < 0.0) {
                    throw new IllegalArgumentException("plan '" + name + "' segment " + i + " ends at sigma " + end
                            + "; sigma ends must decrease strictly within [0, 1)");
                }
                if (last && end != 0.0) {
                    throw new IllegalArgumentException("plan '" + name + "' ends at sigma " + end
                            + "; segments must cover the whole trajectory (the last must end at sigma 0)");
                }
            }
            prev = end;
        }
        if (solver != null) {
            solver = Solver.named(solver, "plan '" + name + "' solver").name();
        }
        if (steps != null && steps < 1) {
            throw new IllegalArgumentException("plan '" + name + "' steps is " + steps + "; must be >= 1");
        }
        if (solverHistory != null) {
            solverHistory = HistoryAtSwitch.parse(solverHistory, "plan '" + name + "' solver_history").wireName();
        }
    }

    /** Segments only: sampled as the request or the family says. */
    public StagePlan(String name, Unit unit, List<Segment> segments) {
        this(name, unit, segments, null, null, null, null);
    }

    /** This plan's segments sampled with {@code solver}, {@code steps} and {@code solverHistory} (each may be null). */
    public StagePlan sampledWith(String solver, Integer steps, String solverHistory) {
        return new StagePlan(name, unit, segments, solver, steps, solverHistory, reuse);
    }

    /** This plan under another name. */
    public StagePlan named(String newName) {
        return new StagePlan(newName, unit, segments, solver, steps, solverHistory, reuse);
    }

    /** How this plan is sampled: its solver (else {@code familySolver}), its history policy (else carry), its reuse. */
    public Sampling sampling(Solver familySolver) {
        // both names were checked when this plan was made
        return new Sampling(solver != null ? Solver.named(solver, "plan.solver") : familySolver,
                solverHistory != null ? HistoryAtSwitch.parse(solverHistory, "plan.solver_history") : HistoryAtSwitch.CARRY,
                reuse);
    }

    /** This plan with step reuse {@code r} (null: none). */
    public StagePlan withReuse(StepReuse r) {
        return new StagePlan(name, unit, segments, solver, steps, solverHistory, r);
    }

    /** A plan by step fraction from alternating (pool, end) pairs. */
    public static StagePlan fractions(String name, Object... poolEndPairs) {
        List<Segment> s = new ArrayList<>();
        for (int i = 0; i < poolEndPairs.length; i += 2) {
            s.add(new Segment((String) poolEndPairs[i], ((Number) poolEndPairs[i + 1]).doubleValue()));
        }
        return new StagePlan(name, Unit.STEP_FRACTION, s);
    }

    public static StagePlan load(Path file) {
        return Json.read(file, StagePlan.class);
    }

    /**
     * The pool of every step. By fraction, step k belongs to the first segment with
     * k < round(end * steps); by sigma, to the first segment with sigma_k >= end.
     */
    public String[] resolve(int steps, double[] sigmas) {
        String[] pools = new String[steps];
        for (int k = 0; k < steps; k++) {
            for (Segment seg : segments) {
                boolean inside = unit == Unit.STEP_FRACTION ? k < Math.round(seg.end() * steps) : sigmas[k] >= seg.end();
                if (inside) {
                    pools[k] = seg.pool();
                    break;
                }
            }
            if (pools[k] == null) {
                pools[k] = segments.get(segments.size() - 1).pool();
            }
        }
        return pools;
    }

    /** Distinct pool names, in order of first use. */
    public List<String> pools() {
        return segments.stream().map(Segment::pool).distinct().toList();
    }

    /** A compact description, such as "large:0.4,small:0.8,large:1.0". */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (Segment s : segments) {
            b.append(b.length() == 0 ? "" : ",").append(s.pool()).append(':').append(s.end());
        }
        if (solver != null) {
            b.append(" solver ").append(solver);
        }
        if (steps != null) {
            b.append(" steps ").append(steps);
        }
        if (solverHistory != null) {
            b.append(" history ").append(solverHistory);
        }
        if (reuse != null) {
            b.append(" reuse ").append(reuse.budget());
        }
        return (unit == Unit.SIGMA ? "sigma " : "") + b;
    }
}
