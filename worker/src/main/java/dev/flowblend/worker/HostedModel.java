package dev.flowblend.worker;

import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.Tokenizer;
import dev.flowblend.runtime.Wire;
import java.util.Map;

/**
 * A model this worker serves: its manifest entry, the batcher in front of it, the valid range
 * of its integer inputs (input name to the exclusive upper bound of its values, from 0; inputs
 * not named are not range-checked), and its meters. Immutable; the server owns the batcher.
 */
record HostedModel(ModelEntry spec, DynamicBatcher batcher, Map<String, Long> int64Limits, WorkerMetrics.Model meters) {
    HostedModel {
        int64Limits = Map.copyOf(int64Limits);
    }

    /**
     * The ranges of {@code entry}'s integer inputs: a text encoder's {@link Wire#INPUT_IDS} index the
     * family's tokenizer vocabulary (read from its tokenizer.json; the native tokenizer is not loaded),
     * its {@link Wire#ATTENTION_MASK}, where declared, is 0 or 1; other models have none.
     */
    static Map<String, Long> int64Limits(ModelEntry entry, ModelFamily family) {
        if (!entry.role().equals(ModelFamily.ROLE_TEXT_ENCODER)) {
            return Map.of();
        }
        long vocabulary = Tokenizer.vocabularySize(family);
        return entry.input(Wire.ATTENTION_MASK) == null ? Map.of(Wire.INPUT_IDS, vocabulary)
                : Map.of(Wire.INPUT_IDS, vocabulary, Wire.ATTENTION_MASK, 2L);
    }
}
