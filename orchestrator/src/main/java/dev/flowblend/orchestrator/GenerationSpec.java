package dev.flowblend.orchestrator;

import java.util.Objects;

/**
 * One validated generation: tokenized prompts, seed, steps, guidance and the plan. Immutable.
 * Guidance 1.0 runs the conditional branch only (batch 1), as diffusers does.
 */
public record GenerationSpec(String prompt, long[] promptIds, long[] negativeIds, long seed, int steps,
                             double guidance, StagePlan plan) {
    public GenerationSpec {
        Objects.requireNonNull(promptIds, "promptIds");
        Objects.requireNonNull(negativeIds, "negativeIds");
        Objects.requireNonNull(plan, "plan");
        if (steps < 1) {
            throw new IllegalArgumentException("steps is " + steps + "; must be >= 1");
        }
        if (!(guidance >= 1.0) || !Double.isFinite(guidance)) {
            throw new IllegalArgumentException("guidance_scale is " + guidance + "; must be >= 1");
        }
    }

    public boolean usesGuidance() {
        return guidance != 1.0;
    }
}
