package dev.flowblend.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {

    @Test
    void get_metrics_prometheusTextWithTheProcessCountersAndJvmMetrics() throws Exception {
        try (MetricsEndpoint m = MetricsEndpoint.start("127.0.0.1", 0, "metrics_port")) {
            Counter.builder("flowblend.test.calls").tag("pool", "small").register(m.registry()).increment(3);
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + m.port() + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals(MetricsEndpoint.CONTENT_TYPE, r.headers().firstValue("Content-Type").orElse(""));
            assertTrue(r.body().contains("flowblend_test_calls_total{pool=\"small\"} 3.0"), r.body());
            assertTrue(r.body().contains("jvm_memory_used_bytes{"), "JVM metrics bound");
            assertTrue(!r.body().contains("system_cpu_count") && !r.body().contains("process_cpu_time_ns"),
                    "meters promtool rejects are filtered out");
        }
    }

    @Test
    void start_portInUse_errorNamesTheKeyAndTheAddress() {
        try (MetricsEndpoint first = MetricsEndpoint.start("127.0.0.1", 0, "metrics_port")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MetricsEndpoint.start("127.0.0.1", first.port(), "worker 'small-0' metrics_port"));
            assertTrue(e.getMessage().startsWith("worker 'small-0' metrics_port " + first.port()
                    + " on 127.0.0.1 is not free"), e.getMessage());
        }
    }
}
