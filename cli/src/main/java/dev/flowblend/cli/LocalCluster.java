package dev.flowblend.cli;

import dev.flowblend.orchestrator.OrchestratorConfig;
import dev.flowblend.runtime.Json;
import dev.flowblend.worker.WorkerConfig;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A cluster config brought up as separate JVM processes on loopback (what demo and bench use):
 * every worker, then the orchestrator, each on a free port, each awaited until its gRPC health
 * service says SERVING. Closing sends SIGTERM (each process drains) and waits. Owns the processes.
 */
final class LocalCluster implements AutoCloseable {
    private final List<Process> processes = new ArrayList<>();
    private final Path logs;
    private String orchestratorTarget;
    private ClusterConfig config;

    private LocalCluster(Path logs) {
        this.logs = logs;
    }

    static LocalCluster start(ClusterConfig base) throws IOException, InterruptedException {
        LocalCluster c = new LocalCluster(Files.createTempDirectory("flowblend-cluster-"));
        try {
            c.boot(base);
            return c;
        } catch (IOException | InterruptedException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void boot(ClusterConfig base) throws IOException, InterruptedException {
        List<WorkerConfig> workers = new ArrayList<>();
        List<OrchestratorConfig.PoolConfig> pools = new ArrayList<>();
        for (WorkerConfig w : base.workers()) {  // every port, metrics ports too, becomes a free one
            workers.add(w.withPort(freePort()).withMetricsPort(w.metricsPort() == null ? null : freePort()));
        }
        // static pool endpoints are rewritten from each worker's configured port to its free port
        for (OrchestratorConfig.PoolConfig p : base.orchestrator().pools()) {
            List<String> eps = new ArrayList<>();
            for (String e : p.endpoints()) {
                int port = Integer.parseInt(e.substring(e.lastIndexOf(':') + 1));
                WorkerConfig w = base.workers().stream().filter(x -> x.port() == port).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("pool '" + p.name() + "' endpoint " + e
                                + " matches no worker's port in the cluster config"));
                eps.add("127.0.0.1:" + workers.get(base.workers().indexOf(w)).port());
            }
            pools.add(new OrchestratorConfig.PoolConfig(p.name(), p.model(), eps, null, 0));
        }
        this.config = new ClusterConfig(base.description(), base.jvmOptions(),
                base.orchestrator().withPools(pools).withPort(freePort())
                        .withMetricsPort(base.orchestrator().metricsPort() == null ? null : freePort()), workers);
        Path file = logs.resolve("cluster.json");
        Files.writeString(file, Json.write(config));
        for (WorkerConfig w : workers) {
            start("worker-" + w.name(), List.of("worker", "--cluster", file.toString(), "--name", w.name()));
        }
        start("orchestrator", List.of("orchestrator", "--cluster", file.toString()));
        for (WorkerConfig w : workers) {
            awaitServing("worker " + w.name(), w.port(), "");
        }
        this.orchestratorTarget = "127.0.0.1:" + config.orchestrator().port();
        // readiness, not liveness: every pool has a worker the orchestrator has reached (the first
        // request must not race the orchestrator's first connection to a worker that just started)
        awaitServing("orchestrator", config.orchestrator().port(), GenerationServiceGrpc.SERVICE_NAME);
    }

    String target() {
        return orchestratorTarget;
    }

    ClusterConfig config() {
        return config;
    }

    Path logs() {
        return logs;
    }

    private void start(String name, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Dflowblend.models=" + System.getProperty("flowblend.models", "models"));
        cmd.addAll(config.jvmOptions());
        // appended, so they win over the config's; the launcher's own JVM reads FLOWBLEND_JAVA_OPTS
        cmd.addAll(ClusterConfig.splitOptions(System.getenv("FLOWBLEND_CLUSTER_JAVA_OPTS")));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(args);
        Path log = logs.resolve(name + ".log");
        processes.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start());
    }

    private void awaitServing(String what, int port, String service) throws InterruptedException, IOException {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                for (Process p : processes) {
                    if (!p.isAlive()) {
                        throw new IOException(what + " is not up: a process exited with " + p.exitValue()
                                + "; logs in " + logs);
                    }
                }
                try {
                    HealthCheckResponse r = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(1, TimeUnit.SECONDS)
                            .check(HealthCheckRequest.newBuilder().setService(service).build());
                    if (r.getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
                        return;
                    }
                } catch (io.grpc.StatusRuntimeException e) {
                    // not listening yet
                }
                Thread.sleep(100);  // polling a child process's start-up; no clock to inject here
            }
            throw new IOException(what + " did not become SERVING within 120 s; logs in " + logs);
        } finally {
            ch.shutdownNow();
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGTERM to the orchestrator first (it drains its generations), then the workers. */
    @Override
    public void close() {
        for (int i = processes.size() - 1; i >= 0; i--) {
            Process p = processes.get(i);
            p.destroy();
            try {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
