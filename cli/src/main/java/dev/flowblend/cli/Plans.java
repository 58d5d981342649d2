package dev.flowblend.cli;

import dev.flowblend.orchestrator.StagePlan;
import dev.flowblend.proto.generation.BoundaryUnit;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Segment;
import dev.flowblend.proto.generation.Segments;
import java.nio.file.Files;
import java.nio.file.Path;

/** Client-side plan arguments: a preset name, or a plan file sent as explicit segments. */
final class Plans {
    private Plans() {
    }

    static Plan toProto(String presetOrFile) {
        Path p = Path.of(presetOrFile);
        if (!presetOrFile.endsWith(".json") || !Files.isRegularFile(p)) {
            if (presetOrFile.endsWith(".json")) {
                throw new IllegalArgumentException("plan file " + presetOrFile + " does not exist");
            }
            return Plan.newBuilder().setPreset(presetOrFile).build();
        }
        return toProto(StagePlan.load(p));
    }

    /**
     * Sets {@code r}'s plan from a preset name or plan file; a file's solver, steps and history fill
     * the request's fields that are still unset (the command line's own options win).
     */
    static void toRequest(String presetOrFile, GenerateRequest.Builder r) {
        Plan proto = toProto(presetOrFile);
        r.setPlan(proto);
        if (proto.getKindCase() == Plan.KindCase.SEGMENTS) {
            StagePlan file = StagePlan.load(Path.of(presetOrFile));
            if (r.getSolver().isEmpty() && file.solver() != null) {
                r.setSolver(file.solver());
            }
            if (r.getSteps() == 0 && file.steps() != null) {
                r.setSteps(file.steps());
            }
            if (r.getSolverHistory().isEmpty() && file.solverHistory() != null) {
                r.setSolverHistory(file.solverHistory());
            }
        }
    }

    /** A preset name or a plan file, resolved locally (for commands that sample in this process). */
    static StagePlan resolve(String presetOrFile) {
        StagePlan preset = StagePlan.PRESETS.get(presetOrFile);
        if (preset != null) {
            return preset;
        }
        if (!Files.isRegularFile(Path.of(presetOrFile))) {
            throw new IllegalArgumentException("plan '" + presetOrFile + "' is neither a preset "
                    + StagePlan.PRESETS.keySet() + " nor a plan file");
        }
        return StagePlan.load(Path.of(presetOrFile));
    }

    static Plan toProto(StagePlan plan) {
        Segments.Builder s = Segments.newBuilder().setUnit(plan.unit() == StagePlan.Unit.SIGMA
                ? BoundaryUnit.SIGMA : BoundaryUnit.STEP_FRACTION);
        for (StagePlan.Segment seg : plan.segments()) {
            s.addSegments(Segment.newBuilder().setPool(seg.pool()).setEnd(seg.end()));
        }
        return Plan.newBuilder().setSegments(s).build();
    }
}
