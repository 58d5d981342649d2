package dev.flowblend.orchestrator;

import java.util.List;
import java.util.Map;

/**
 * What a generation produced: the final latent, the decoded frames [F, H, W, 3] in [0, 1], the
 * plan's pool of each step ({@code stepPools}), the pool that actually served each step
 * ({@code served}) and the steps that ran on a fallback pool and why ({@code fallbacks}, in step
 * order), the pools that ran the text encoder (null when every context came from the prompt
 * cache, or in-process) and the decoder (null in-process), timings and velocity FLOPs of the steps
 * as they ran (with large-only FLOPs for comparison), and the steps that reused a velocity instead
 * of calling a model ({@code reusedSteps}: in no pool's {@code served}, no FLOPs). Immutable by convention (arrays are not
 * modified after construction).
 */
public record GenerationResult(float[] latent, float[] frames, int[] frameShape, String[] stepPools,
                               Map<String, List<Integer>> served, List<Fallback> fallbacks,
                               String textEncoderPool, String decoderPool, Map<String, Double> poolMillis,
                               double encodePromptMs, double samplingMs, double decodeMs,
                               double flops, double largeOnlyFlops, List<Integer> reusedSteps) {

    /** Steps the plan gave {@code plannedPool} that {@code servedPool} ran, and why ({@link Fallbacks}' reasons). */
    public record Fallback(String plannedPool, String servedPool, String reason, List<Integer> steps) {
    }

    /** How many steps ran on another pool than the plan named. */
    public int fallbackSteps() {
        return fallbacks.stream().mapToInt(f -> f.steps().size()).sum();
    }
}
