package dev.flowblend.orchestrator;

import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.worker.WorkerConfig;
import dev.flowblend.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One large worker, N small workers and an orchestrator, over in-process transport (unit tests)
 * or real loopback sockets (integration tests). Closes everything in reverse order.
 */
final class TestCluster implements AutoCloseable {
    static final ModelFamily FAMILY = ModelFamily.load(ModelFamily.defaultDirectory());

    final ModelFamily family;
    final List<WorkerServer> workers = new ArrayList<>();
    /** What the orchestrator recorded. */
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final OrchestratorServer orchestrator;
    final ManagedChannel client;
    final GenerationServiceGrpc.GenerationServiceBlockingStub stub;

    TestCluster(boolean loopback, int smallWorkers, List<String> extraSmallEndpoints,
                OrchestratorConfig.Limits limits) throws IOException {
        this(loopback, smallWorkers, extraSmallEndpoints, limits, OrchestratorConfig.Security.PLAINTEXT);
    }

    TestCluster(boolean loopback, int smallWorkers, List<String> extraSmallEndpoints,
                OrchestratorConfig.Limits limits, OrchestratorConfig.Security security) throws IOException {
        this(loopback, new Layout(List.of(), smallWorkers, extraSmallEndpoints, List.of("velocity-small"), null,
                null), limits, security);
    }

    /**
     * Where the workers are: one large worker (velocity-large, text-encoder, decoder) unless
     * {@code largeEndpoints} replaces it (e.g. an address nobody listens on); {@code smallWorkers}
     * small workers hosting {@code smallModels} after {@code extraSmallEndpoints}; the small pool's
     * {@code fallback} (null: the default) and the text encoder's and decoder's pools (null: the default).
     */
    record Layout(List<String> largeEndpoints, int smallWorkers, List<String> extraSmallEndpoints,
                  List<String> smallModels, String smallFallback, List<String> hostPools) {
    }

    TestCluster(boolean loopback, Layout layout, OrchestratorConfig.Limits limits) throws IOException {
        this(loopback, layout, limits, OrchestratorConfig.Security.PLAINTEXT);
    }

    TestCluster(boolean loopback, Layout layout, OrchestratorConfig.Limits limits,
                OrchestratorConfig.Security security) throws IOException {
        this(loopback, FAMILY, layout, limits, security);
    }

    /** The layout serving {@code family} (every worker and the orchestrator load it). */
    TestCluster(boolean loopback, ModelFamily family, Layout layout, OrchestratorConfig.Limits limits,
                OrchestratorConfig.Security security) throws IOException {
        this.family = family;
        List<String> large = layout.largeEndpoints().isEmpty() ? List.of(startWorker(loopback, "large-0",
                List.of("velocity-large", "text-encoder", "decoder"))) : layout.largeEndpoints();
        List<String> small = new ArrayList<>(layout.extraSmallEndpoints());
        for (int i = 0; i < layout.smallWorkers(); i++) {
            small.add(startWorker(loopback, "small-" + i, layout.smallModels()));
        }
        OrchestratorConfig config = new OrchestratorConfig("127.0.0.1", 0, null, List.of(
                new OrchestratorConfig.PoolConfig("large", "velocity-large", large, null, 0),
                new OrchestratorConfig.PoolConfig("small", "velocity-small", small, null, 0, layout.smallFallback())),
                layout.hostPools(), layout.hostPools(), null, Map.of(), limits, 0, 2, 0, 0, 5, null, null, null, null,
                security);
        String name = InProcessServerBuilder.generateName();
        orchestrator = new OrchestratorServer(config, family,
                loopback ? NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                        : InProcessServerBuilder.forName(name),
                loopback ? OrchestratorServer.nettyChannels(64 << 20)
                        : addr -> InProcessChannelBuilder.forName(addr).build(), registry).start();
        client = loopback ? NettyChannelBuilder.forAddress("127.0.0.1", orchestrator.port()).usePlaintext().build()
                : InProcessChannelBuilder.forName(name).build();
        stub = GenerationServiceGrpc.newBlockingStub(client);
    }

    private String startWorker(boolean loopback, String name, List<String> models) throws IOException {
        WorkerConfig c = new WorkerConfig(name, name.substring(0, name.indexOf('-')), "127.0.0.1", 0, null, models,
                RuntimeOptions.cpu(1), null, null, 0, 5, 0, null, null, WorkerConfig.Security.PLAINTEXT);
        String inproc = "inproc-" + InProcessServerBuilder.generateName() + ":0";  // host:port-shaped, as pools require
        WorkerServer w = new WorkerServer(c, family, loopback
                ? NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)) : InProcessServerBuilder.forName(inproc))
                .start();
        workers.add(w);
        return loopback ? "127.0.0.1:" + w.port() : inproc;
    }

    /** The middle value (the upper one of an even count), for wall-time comparisons of alternating runs. */
    static double median(double[] a) {
        double[] s = a.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }

    /** The orchestrator's gRPC health of {@code service} ("" for the process). */
    io.grpc.health.v1.HealthCheckResponse.ServingStatus health(String service) {
        return io.grpc.health.v1.HealthGrpc.newBlockingStub(client).withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(io.grpc.health.v1.HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }

    /** All events of one Generate call (throws the call's status on failure). */
    List<GenerateEvent> generate(GenerateRequest r) {
        List<GenerateEvent> out = new ArrayList<>();
        Iterator<GenerateEvent> it = stub.withDeadlineAfter(120, TimeUnit.SECONDS).generate(r);
        it.forEachRemaining(out::add);
        return out;
    }

    @Override
    public void close() {
        client.shutdownNow();
        orchestrator.close();
        for (int i = workers.size() - 1; i >= 0; i--) {
            workers.get(i).close();
        }
    }
}
