package dev.flowblend.orchestrator;

import java.util.Arrays;

/**
 * A pool's recent velocity-call latencies (the last {@value #WINDOW}), and the percentile that
 * sets its hedging budget. Thread-safe; the percentile is recomputed every few samples, not per
 * call, so reading it costs a volatile read.
 */
final class StepLatency {
    static final int WINDOW = 128;
    /** Fewer samples than this say nothing yet: {@link #percentileNanos} is then -1. */
    static final int MIN_SAMPLES = 8;
    private static final int RECOMPUTE_EVERY = 8;

    private final double percentile;
    private final long[] ring = new long[WINDOW];
    private int count;       // guarded by this
    private int next;        // guarded by this
    private volatile long cached = -1;

    StepLatency(double percentile) {
        this.percentile = percentile;
    }

    synchronized void record(long nanos) {
        ring[next] = nanos;
        next = (next + 1) % WINDOW;
        count = Math.min(count + 1, WINDOW);
        if (count >= MIN_SAMPLES && (count < WINDOW || next % RECOMPUTE_EVERY == 0)) {
            long[] sorted = Arrays.copyOf(ring, count);
            Arrays.sort(sorted);
            int rank = (int) Math.ceil(percentile / 100.0 * count);
            cached = sorted[Math.max(0, Math.min(count, rank) - 1)];
        }
    }

    /** The percentile of the recent latencies, or -1 with fewer than {@value #MIN_SAMPLES} of them. */
    long percentileNanos() {
        return cached;
    }
}
