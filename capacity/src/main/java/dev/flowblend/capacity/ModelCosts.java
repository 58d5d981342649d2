package dev.flowblend.capacity;

/**
 * What one batch of a model costs on one worker, and how that worker's batcher forms batches
 * (the worker's {@code batching} section): a batch of s samples occupies the worker's device for
 * {@code fixed_ms + per_sample_ms * s}. Absent values take the named defaults; {@link #check}
 * names the field path of a bad value. Immutable.
 */
public record ModelCosts(Double fixedMs, Double perSampleMs, Integer maxBatchSize, Double maxQueueDelayMs) {
    public static final double DEFAULT_FIXED_MS = 0.0;
    /** The demo deployment's batching.max_batch_size. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 32;
    /** The demo deployment's batching.max_queue_delay_micros (0: a lone request never waits). */
    public static final double DEFAULT_MAX_QUEUE_DELAY_MS = 0.0;
    /** Bounds that keep a typo (ms given as µs) from passing silently: one batch at most a day. */
    static final double MAX_MS = 86_400_000.0;
    static final int MAX_BATCH = 1 << 16;

    public ModelCosts {
        fixedMs = fixedMs == null ? DEFAULT_FIXED_MS : fixedMs;
        maxBatchSize = maxBatchSize == null ? DEFAULT_MAX_BATCH_SIZE : maxBatchSize;
        maxQueueDelayMs = maxQueueDelayMs == null ? DEFAULT_MAX_QUEUE_DELAY_MS : maxQueueDelayMs;
    }

    /** Linear cost with no fixed part: what a GPU already saturated by one guided sample pair does. */
    public static ModelCosts linear(double perSampleMs, int maxBatchSize) {
        return new ModelCosts(0.0, perSampleMs, maxBatchSize, 0.0);
    }

    /** Device time of a batch of {@code samples}. */
    public double batchMs(int samples) {
        return fixedMs + perSampleMs * samples;
    }

    /**
     * Device time per sample when batches are as large as they can be: the least work a sample
     * can cost, which makes it a lower bound on a pool's load (the planner starts from it).
     */
    public double minMsPerSample() {
        return perSampleMs + fixedMs / maxBatchSize;
    }

    /** Validates every field; {@code path} is where this record sits ("pools.large.models.decoder"). */
    void check(String path) {
        if (perSampleMs == null) {
            throw new IllegalArgumentException(path + ".per_sample_ms is missing; it is the device time each sample adds to a batch");
        }
        Check.range(path + ".fixed_ms", fixedMs, 0, MAX_MS);
        Check.range(path + ".per_sample_ms", perSampleMs, 0, MAX_MS);
        Check.range(path + ".max_queue_delay_ms", maxQueueDelayMs, 0, MAX_MS);
        Check.range(path + ".max_batch_size", maxBatchSize, 1, MAX_BATCH);
    }
}
