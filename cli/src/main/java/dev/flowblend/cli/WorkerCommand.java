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

    @Option(names = "--port", description = "Port to listen on (0 = any free port).")
    Integer port;

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
        WorkerServer server = new WorkerServer(c, family,
                Launcher.netty(c.host(), c.port()));
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "worker-shutdown"));
        System.out.println("worker " + c.name() + " (" + c.role() + ") serving " + c.models() + " on " + c.host() + ":"
                + server.port());
        System.out.flush();
        server.awaitTermination();
        return 0;
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
        if (port != null) {
            c = c.withPort(port);
        }
        if (threads != null || executionProvider != null) {
            RuntimeOptions r = c.runtime();
            c = c.withRuntime(new RuntimeOptions(threads != null ? threads : r.intraOpThreads(), r.interOpThreads(),
                    executionProvider != null ? executionProvider : r.executionProvider()));
        }
        return c;
    }
}
