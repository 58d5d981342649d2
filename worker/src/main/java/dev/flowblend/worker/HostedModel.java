package dev.flowblend.worker;

import dev.flowblend.runtime.ModelEntry;

/**
 * A model this worker serves: its manifest entry, the batcher in front of it, the valid range
 * of integer inputs (token ids must index the vocabulary), and its meters. Immutable; the server
 * owns the batcher.
 */
record HostedModel(ModelEntry spec, DynamicBatcher batcher, long int64Limit, WorkerMetrics.Model meters) {
}
