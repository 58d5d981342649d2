package dev.flowblend.cli;

import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.worker.WorkerConfig;
import dev.flowblend.worker.WorkerRoles;
import dev.flowblend.worker.WorkerServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs one worker (large or small: the same implementation with another configuration). */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Run a worker that serves the manifest's models over the Open Inference Protocol (gRPC).")
final class WorkerCommand implements Callable<Integer> {
    @Option(names = "--role", description = "Role defaults to start from: large or small (default: large).")
    String role = "large";

    @Option(names = "--cluster", description = "Cluster config file (e.g. deploy/demo.json); with --name picks the worker.")
    Path cluster;

    @Option(names = "--config", description = "A worker config file (JSON, same fields as a cluster's worker entry).")
    Path config;

    @Option(names = "--name", description = "Worker name (and, with --cluster, which worker entry to run).")
    String name;

    @Option(names = "--instance", description = "The name this process reports (worker_id, logs, metrics), e.g. "
            + "a Kubernetes pod name; --name still picks the cluster entry. Default: the entry's name.")
    String instance;

    @Option(names = "--host", description = "Address to listen on (0.0.0.0 = every interface). Default: the config's host.")
    String host;

    @Option(names = "--port", description = "Port to listen on (0 = any free port).")
    Integer port;

    @Option(names = "--metrics-port", description = "Serve Prometheus metrics at http://HOST:PORT/metrics "
            + "(0 = any free port). Default: the config's metrics_port; none when that is absent.")
    Integer metricsPort;

    @Option(names = "--models", description = "Model directory (default: the bundled models/).")
    Path models;

    @Option(names = "--threads", description = "ONNX Runtime intra-op threads per model.")
    Integer threads;

    @Option(names = "--execution-provider", description = "cpu, cuda or cuda:N (CUDA needs a -Pgpu build).")
    String executionProvider;

    @Override
    public Integer call() throws Exception {
        WorkerConfig c = resolve();
        ModelFamily family = Launcher.family(models, c.modelsDir());
        Transport transport = Transport.worker(c);  // certificate files checked before any port opens
        Telemetry telemetry = Telemetry.start(c.host(), c.metricsPort(), "worker '" + c.name() + "' metrics_port");
        WorkerServer server = new WorkerServer(c, family, transport.server(c.host(), c.port()), telemetry.registry())
                .healthListener(transport.health(c.host()));
        return Serving.run("worker", server::start, server::awaitTermination, () -> {
            server.close();
            transport.close();
        }, telemetry);
    }

    WorkerConfig resolve() {
        WorkerConfig c;
        if (cluster != null) {
            if (name == null) {
                throw new IllegalArgumentException("--cluster needs --name to pick a worker entry");
            }
            c = ClusterConfig.load(cluster).worker(name);
        } else if (config != null) {
            c = dev.flowblend.runtime.Json.read(config, WorkerConfig.class);
        } else {
            c = WorkerRoles.load(role);
        }
        if (name != null) {
            c = c.withName(name);
        }
        if (instance != null) {
            c = c.withName(instance);
        }
        if (host != null) {
            c = c.withHost(host);
        }
        if (port != null) {
            c = c.withPort(port);
        }
        if (metricsPort != null) {
            c = c.withMetricsPort(metricsPort);
        }
        if (threads != null || executionProvider != null) {
            RuntimeOptions r = c.runtime();
            c = c.withRuntime(new RuntimeOptions(threads != null ? threads : r.intraOpThreads(), r.interOpThreads(),
                    executionProvider != null ? executionProvider : r.executionProvider()));
        }
        return c;
    }
}
