package dev.flowblend.telemetry;

/** The one validation of a process's {@code metrics_port} key, shared by every process's config. */
public final class MetricsPort {
    private MetricsPort() {
    }

    /**
     * @param who the config section, for the message ("orchestrator", "worker 'small-0'")
     * @param metricsPort null: no metrics endpoint; 0: any free port; else the port
     * @param grpcPort the same section's gRPC port, which the metrics port must not equal
     */
    public static void validate(String who, Integer metricsPort, int grpcPort) {
        if (metricsPort == null) {
            return;
        }
        if (metricsPort < 0 || metricsPort > 65535) {
            throw new IllegalArgumentException(who + " metrics_port is " + metricsPort
                    + "; must be 0 (any free port) to 65535, or absent (no metrics endpoint)");
        }
        if (metricsPort != 0 && metricsPort == grpcPort) {
            throw new IllegalArgumentException(who + " metrics_port is " + metricsPort
                    + ", the same as its gRPC port; give it a port of its own");
        }
    }
}
