package dev.flowblend.orchestrator;

import dev.flowblend.orchestrator.solver.Sampling;
import dev.flowblend.runtime.TokenizedPrompt;
import dev.flowblend.runtime.VideoSize;
import java.util.Objects;

/**
 * One validated generation: tokenized prompts, seed, steps, guidance, the plan, the video size and
 * frame rate (null size / fps 0: the family's defaults), and how the trajectory is integrated
 * (solver, its history at a switch, step reuse). Immutable. Guidance 1.0 runs the conditional branch only (batch 1), as diffusers does.
 */
public record GenerationSpec(String prompt, TokenizedPrompt promptTokens, TokenizedPrompt negativeTokens, long seed,
                             int steps, double guidance, StagePlan plan, VideoSize size, int fps, Sampling sampling) {
    public GenerationSpec {
        Objects.requireNonNull(sampling, "sampling");
        Objects.requireNonNull(promptTokens, "promptTokens");
        Objects.requireNonNull(negativeTokens, "negativeTokens");
        Objects.requireNonNull(plan, "plan");
        if (steps < 1) {
            throw new IllegalArgumentException("steps is " + steps + "; must be >= 1");
        }
        if (!(guidance >= 1.0) || !Double.isFinite(guidance)) {
            throw new IllegalArgumentException("guidance_scale is " + guidance + "; must be >= 1");
        }
        if (fps < 0) {
            throw new IllegalArgumentException("fps is " + fps + "; must be >= 0");
        }
    }

    /** Sampled with Euler. */
    public GenerationSpec(String prompt, TokenizedPrompt promptTokens, TokenizedPrompt negativeTokens, long seed, int steps,
                          double guidance, StagePlan plan, VideoSize size, int fps) {
        this(prompt, promptTokens, negativeTokens, seed, steps, guidance, plan, size, fps, Sampling.EULER);
    }

    /** At the family's default size and frame rate, sampled with Euler. */
    public GenerationSpec(String prompt, TokenizedPrompt promptTokens, TokenizedPrompt negativeTokens, long seed, int steps,
                          double guidance, StagePlan plan) {
        this(prompt, promptTokens, negativeTokens, seed, steps, guidance, plan, null, 0);
    }

    public boolean usesGuidance() {
        return guidance != 1.0;
    }
}
