package dev.flowblend.cli;

import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.orchestrator.OrchestratorServer;
import dev.flowblend.runtime.Json;
import dev.flowblend.runtime.ModelFamily;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs the orchestrator: GenerationService in front of the configured worker pools. */
@Command(name = "orchestrator", mixinStandardHelpOptions = true,
        description = "Run the orchestrator: owns the timestep loop and sends each step to the pool its plan names.")
final class OrchestratorCommand implements Callable<Integer> {
    @Option(names = "--cluster", description = "Cluster config file; its 'orchestrator' section is used.")
    Path cluster;

    @Option(names = "--config", description = "An orchestrator config file (the 'orchestrator' section alone).")
    Path config;

    @Option(names = "--host", description = "Address to listen on (0.0.0.0 = every interface). Default: the config's host.")
    String host;

    @Option(names = "--port", description = "Port to listen on (0 = any free port).")
    Integer port;

    @Option(names = "--metrics-port", description = "Serve Prometheus metrics at http://HOST:PORT/metrics "
            + "(0 = any free port). Default: the config's metrics_port; none when that is absent.")
    Integer metricsPort;

    @Option(names = "--plan", description = "Default plan: a preset (flowblending, large-only, small-only) or a plan file.")
    String plan;

    @Option(names = "--models", description = "Model directory (default: the bundled models/).")
    Path models;

    @Override
    public Integer call() throws Exception {
        if ((cluster == null) == (config == null)) {
            throw new IllegalArgumentException("give exactly one of --cluster or --config");
        }
        OrchestratorConfig c = cluster != null ? ClusterConfig.load(cluster).orchestrator()
                : Json.read(config, OrchestratorConfig.class);
        if (host != null) {
            c = c.withHost(host);
        }
        if (port != null) {
            c = c.withPort(port);
        }
        if (metricsPort != null) {
            c = c.withMetricsPort(metricsPort);
        }
        if (plan != null) {
            c = c.withDefaultPlan(plan);
        }
        ModelFamily family = Launcher.family(models, c.modelsDir());
        Transport transport = Transport.orchestrator(c);  // certificate files checked before any port opens
        Telemetry telemetry = Telemetry.start(c.host(), c.metricsPort(), "orchestrator metrics_port");
        OrchestratorServer server = new OrchestratorServer(c, family, transport.server(c.host(), c.port()),
                transport.workerChannels(c.maxMessageBytes()), telemetry.registry())
                .healthListener(transport.health(c.host()));
        return Serving.run("orchestrator", server::start, server::awaitTermination, () -> {
            server.close();
            transport.close();
        }, telemetry);
    }
}
