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
        return new WorkerConfig("w-0", "small", null, 0, null, List.of("velocity-small"), null, null, null, 0, 0, n, null);
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
                "{\"name\": \"w-0\", \"models\": [\"velocity-small\"], \"max_stream_inflight\": 8}", WorkerConfig.class);
        assertEquals(8, c.maxStreamInflight());
        assertEquals(8, c.withPort(1).maxStreamInflight());
    }
}
