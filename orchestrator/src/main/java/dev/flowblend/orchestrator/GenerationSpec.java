package dev.flowblend.orchestrator;

import dev.flowblend.runtime.TokenizedPrompt;
import dev.flowblend.runtime.VideoSize;
import java.util.Objects;

/**
 * One validated generation: tokenized prompts, seed, steps, guidance, the plan, and the video size
 * and frame rate (null size / fps 0: the family's defaults). Immutable. Guidance 1.0 runs the
 * conditional branch only (batch 1), as diffusers does.
 */
public record GenerationSpec(String prompt, TokenizedPrompt promptTokens, TokenizedPrompt negativeTokens, long seed,
                             int steps, double guidance, StagePlan plan, VideoSize size, int fps) {
    public GenerationSpec {
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

    /** At the family's default size and frame rate. */
    public GenerationSpec(String prompt, TokenizedPrompt promptTokens, TokenizedPrompt negativeTokens, long seed, int steps,
                          double guidance, StagePlan plan) {
        this(prompt, promptTokens, negativeTokens, seed, steps, guidance, plan, null, 0);
    }

    public boolean usesGuidance() {
        return guidance != 1.0;
    }
}
