package dev.flowblend.capacity;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one video asks of each pool, in closed form: device ms per video at full batches (a lower
 * bound on the pool's load: λ × it ÷ workers is a utilisation no run can go below) and the
 * unloaded latency (one video alone: every call a batch of its own, no waiting), with the prompt
 * cache's expected hits. Used by the planner to start its search and to refuse what no pool size
 * can meet. Immutable.
 */
record Work(Map<String, Double> msPerVideo, double unloadedMs) {
    static Work of(Costs c) {
        Map<String, Double> ms = new LinkedHashMap<>();
        OrchestratorCosts o = c.orchestrator();
        int samples = c.stepSamples();
        double unloaded = 0;
        for (String pool : c.plan().resolve()) {
            ModelCosts m = c.pools().get(pool).models().get(c.pools().get(pool).velocityModel(pool));
            ms.merge(pool, samples * m.minMsPerSample(), Double::sum);
            unloaded += o.stepOverheadMs() + m.batchMs(samples);
        }
        double contexts = (1 - o.promptCacheHitRate()) + (c.guidance() ? 1 - o.negativePromptCacheHitRate() : 0);
        ModelCosts te = c.pools().get(c.textEncoderPool()).models().get(Costs.TEXT_ENCODER);
        ms.merge(c.textEncoderPool(), contexts * te.minMsPerSample(), Double::sum);
        unloaded += contexts * te.batchMs(1);
        ModelCosts dec = c.pools().get(c.decoderPool()).models().get(Costs.DECODER);
        ms.merge(c.decoderPool(), dec.minMsPerSample(), Double::sum);
        unloaded += dec.batchMs(1) + o.encodeMs();
        return new Work(ms, unloaded);
    }
}
