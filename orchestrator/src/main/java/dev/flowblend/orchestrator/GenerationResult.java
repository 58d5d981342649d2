package dev.flowblend.orchestrator;

import java.util.List;
import java.util.Map;

/**
 * What a generation produced: the final latent, the decoded frames [F, H, W, 3] in [0, 1], which
 * pool served each step, timings and velocity FLOPs (with large-only FLOPs for comparison).
 * Immutable by convention (arrays are not modified after construction).
 */
public record GenerationResult(float[] latent, float[] frames, int[] frameShape, String[] stepPools,
                               Map<String, List<Integer>> served, Map<String, Double> poolMillis,
                               double encodePromptMs, double samplingMs, double decodeMs,
                               double flops, double largeOnlyFlops) {
}
