package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flowblend.runtime.Json;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The worker configuration's defaults and validation. */
class WorkerConfigTest {

    private static WorkerConfig withMaxStreamInflight(int n) {
        return new WorkerConfig("w-0", "small", null, 0, null, List.of("velocity-small"), null, null, null, 0, 0, n, null, null, WorkerConfig.Security.PLAINTEXT);
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 65537})
    void constructor_maxStreamInflightOutOfRange_errorNamesFieldAndValue(int n) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> withMaxStreamInflight(n));
        assertEquals("max_stream_inflight is " + n + "; must be 1 to 65536", e.getMessage());
    }

    @Test
    void constructor_maxStreamInflightUnset_defaultsTo64() {
        assertEquals(64, withMaxStreamInflight(0).maxStreamInflight());
    }

    @Test
    void json_maxStreamInflightKey_readIntoTheConfig() throws Exception {
        WorkerConfig c = Json.mapper().readValue(
                "{\"name\": \"w-0\", \"models\": [\"velocity-small\"], \"security\": {\"plaintext\": true}, \"max_stream_inflight\": 8}", WorkerConfig.class);
        assertEquals(8, c.maxStreamInflight());
        assertEquals(8, c.withPort(1).maxStreamInflight());
    }

    @Test
    void json_applyGuidanceKey_readAndKeptByWithers_defaultTrue() throws Exception {
        assertEquals(true, read("").applyGuidance());
        WorkerConfig off = read(", \"apply_guidance\": false");
        assertEquals(false, off.applyGuidance());
        assertEquals(false, off.withPort(1).withBatching(WorkerConfig.Batching.DEFAULT).applyGuidance());
        assertThrows(Exception.class, () -> read(", \"apply_guidance\": \"no\""));
    }

    private static WorkerConfig read(String more) throws Exception {
        return Json.mapper().readValue("{\"name\": \"w-0\", \"models\": [\"velocity-small\"], \"security\": {\"plaintext\": true}" + more + "}",
                WorkerConfig.class);
    }

    @Test
    void json_partialNestedObjects_restTakeTheirDefaults() throws Exception {
        WorkerConfig c = read(", \"batching\": {\"max_batch_size\": 8}, \"context_cache\": {\"max_bytes\": 0},"
                + " \"runtime\": {\"execution_provider\": \"cpu\"}");
        assertEquals(new WorkerConfig.Batching(8, WorkerConfig.Batching.DEFAULT.maxQueueDelayMicros(),
                WorkerConfig.Batching.DEFAULT.maxQueueSize()), c.batching());
        // 0 is a value, not "unset": it disables the cache
        assertEquals(new WorkerConfig.ContextCache(0, WorkerConfig.ContextCache.DEFAULT.expireAfterAccessSeconds()),
                c.contextCache());
        assertEquals(dev.flowblend.runtime.RuntimeOptions.DEFAULT, c.runtime());
    }

    @Test
    void json_badNestedValue_messageNamesTheField() {
        Exception e = assertThrows(Exception.class, () -> read(", \"batching\": {\"max_queue_size\": 0}"));
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        assertEquals("batching.max_queue_size is 0; must be 1 to 1000000", t.getMessage());
    }

    @Test
    void json_metricsPortAndHost_keptThroughTheWithers() throws Exception {
        WorkerConfig c = read(", \"port\": 8201, \"metrics_port\": 9201").withHost("0.0.0.0").withName("pod-a");
        assertEquals(9201, c.metricsPort());
        assertEquals("0.0.0.0", c.host());
        assertEquals("pod-a", c.name());
        assertEquals(8201, c.port());
        Exception e = assertThrows(IllegalArgumentException.class, () -> c.withMetricsPort(8201));
        assertEquals("worker 'pod-a' metrics_port is 8201, the same as its gRPC port; give it a port of its own",
                e.getMessage());
    }
}
