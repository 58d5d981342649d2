package dev.flowblend.capacity;

/**
 * The orchestrator's side: a fixed cost added to every sampling step (round trip, serialisation,
 * the solver update: time that passes without occupying any worker), the video encoding of each
 * finished generation (MP4/GIF on the orchestrator's CPU, on at most {@code encode_threads} at
 * once), the admission limits (limits.max_concurrent_generations / max_queued_generations) and
 * how often the prompt cache already has a context, and {@code request_overhead_ms}: the time a
 * client's generation takes beyond the orchestrator's own (the request and the video crossing
 * the network, the client's handling), which holds no slot and no worker but is in every latency
 * a client measures (measured here: 4–10 ms a generation). Absent values take the named defaults
 * (the demo deployment's limits). Immutable.
 */
public record OrchestratorCosts(Double stepOverheadMs, Double encodeMs, Integer encodeThreads,
                                Integer maxConcurrentGenerations, Integer maxQueuedGenerations,
                                Double promptCacheHitRate, Double negativePromptCacheHitRate,
                                Double requestOverheadMs) {
    public static final double DEFAULT_STEP_OVERHEAD_MS = 0.0;
    public static final double DEFAULT_ENCODE_MS = 0.0;
    public static final int DEFAULT_ENCODE_THREADS = 1;
    public static final int DEFAULT_MAX_CONCURRENT = 4;
    public static final int DEFAULT_MAX_QUEUED = 64;
    public static final double DEFAULT_PROMPT_CACHE_HIT_RATE = 0.0;
    public static final double DEFAULT_NEGATIVE_PROMPT_CACHE_HIT_RATE = 0.0;
    /** What "no limit" means here: more generations than any simulated run issues. */
    public static final int UNLIMITED = 10_000_000;
    public static final double DEFAULT_REQUEST_OVERHEAD_MS = 0.0;
    public static final OrchestratorCosts DEFAULT = new OrchestratorCosts(null, null, null, null, null, null, null, null);

    public OrchestratorCosts {
        stepOverheadMs = stepOverheadMs == null ? DEFAULT_STEP_OVERHEAD_MS : stepOverheadMs;
        encodeMs = encodeMs == null ? DEFAULT_ENCODE_MS : encodeMs;
        encodeThreads = encodeThreads == null ? DEFAULT_ENCODE_THREADS : encodeThreads;
        maxConcurrentGenerations = maxConcurrentGenerations == null ? DEFAULT_MAX_CONCURRENT : maxConcurrentGenerations;
        maxQueuedGenerations = maxQueuedGenerations == null ? DEFAULT_MAX_QUEUED : maxQueuedGenerations;
        promptCacheHitRate = promptCacheHitRate == null ? DEFAULT_PROMPT_CACHE_HIT_RATE : promptCacheHitRate;
        negativePromptCacheHitRate = negativePromptCacheHitRate == null
                ? DEFAULT_NEGATIVE_PROMPT_CACHE_HIT_RATE : negativePromptCacheHitRate;
        requestOverheadMs = requestOverheadMs == null ? DEFAULT_REQUEST_OVERHEAD_MS : requestOverheadMs;
    }

    public OrchestratorCosts(Double stepOverheadMs, Double encodeMs, Integer encodeThreads,
                             Integer maxConcurrentGenerations, Integer maxQueuedGenerations,
                             Double promptCacheHitRate, Double negativePromptCacheHitRate) {
        this(stepOverheadMs, encodeMs, encodeThreads, maxConcurrentGenerations, maxQueuedGenerations,
                promptCacheHitRate, negativePromptCacheHitRate, null);
    }

    /** These costs with another request overhead. */
    public OrchestratorCosts withRequestOverhead(double ms) {
        return new OrchestratorCosts(stepOverheadMs, encodeMs, encodeThreads, maxConcurrentGenerations,
                maxQueuedGenerations, promptCacheHitRate, negativePromptCacheHitRate, ms);
    }

    /** These costs with other admission limits. */
    public OrchestratorCosts withLimits(int maxConcurrent, int maxQueued) {
        return new OrchestratorCosts(stepOverheadMs, encodeMs, encodeThreads, maxConcurrent, maxQueued,
                promptCacheHitRate, negativePromptCacheHitRate, requestOverheadMs);
    }

    void check(String path) {
        Check.range(path + ".step_overhead_ms", stepOverheadMs, 0, ModelCosts.MAX_MS);
        Check.range(path + ".encode_ms", encodeMs, 0, ModelCosts.MAX_MS);
        Check.range(path + ".encode_threads", encodeThreads, 1, 100_000);
        Check.range(path + ".max_concurrent_generations", maxConcurrentGenerations, 1, UNLIMITED);
        Check.range(path + ".max_queued_generations", maxQueuedGenerations, 0, UNLIMITED);
        Check.range(path + ".prompt_cache_hit_rate", promptCacheHitRate, 0, 1);
        Check.range(path + ".negative_prompt_cache_hit_rate", negativePromptCacheHitRate, 0, 1);
        Check.range(path + ".request_overhead_ms", requestOverheadMs, 0, ModelCosts.MAX_MS);
    }
}
