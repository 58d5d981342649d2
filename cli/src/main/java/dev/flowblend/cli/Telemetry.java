package dev.flowblend.cli;

import dev.flowblend.telemetry.MetricsEndpoint;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * A serving process's metrics: the Prometheus endpoint when the config gives a metrics_port,
 * else a registry that is only read by no one (the process records the same way either way).
 * Owned by the command that starts the process; closed after its server.
 */
final class Telemetry implements AutoCloseable {
    private final MetricsEndpoint endpoint;  // null: no metrics_port
    private final MeterRegistry registry;

    private Telemetry(MetricsEndpoint endpoint, MeterRegistry registry) {
        this.endpoint = endpoint;
        this.registry = registry;
    }

    /** @param what the config key, for the error when the port is taken */
    static Telemetry start(String host, Integer metricsPort, String what) {
        if (metricsPort == null) {
            return new Telemetry(null, new SimpleMeterRegistry());
        }
        MetricsEndpoint e = MetricsEndpoint.start(host, metricsPort, what);
        return new Telemetry(e, e.registry());
    }

    MeterRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        if (endpoint != null) {
            endpoint.close();
        } else {
            registry.close();
        }
    }
}
