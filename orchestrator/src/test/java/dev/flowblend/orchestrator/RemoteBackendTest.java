package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.worker.WorkerConfig;
import dev.flowblend.worker.WorkerServer;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.proto.inference.ModelStreamInferResponse;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RemoteBackend against in-process workers: conditioning resend on cache misses, failover within a pool. */
class RemoteBackendTest {
    /** These tests are about one pool's workers: its failures must not be served by the large pool. */
    private static final String NONE = OrchestratorConfig.PoolConfig.NO_FALLBACK;

    private static WorkerServer worker(String name, long cacheBytes) throws Exception {
        WorkerConfig c = new WorkerConfig(name, "small", null, 0, null, List.of("velocity-small"),
                RuntimeOptions.cpu(1), null, new WorkerConfig.ContextCache(cacheBytes, 60), 0, 1, 0, null, null, WorkerConfig.Security.PLAINTEXT);
        return new WorkerServer(c, TestCluster.FAMILY, InProcessServerBuilder.forName(name)).start();
    }

    private static RemoteBackend backend(List<String> small, ScheduledExecutorService s) {
        return backend(small, s, true);
    }

    private static RemoteBackend backend(List<String> small, ScheduledExecutorService s, boolean streams) {
        return backend(small, s, streams, 60_000);
    }

    private static RemoteBackend backend(List<String> small, ScheduledExecutorService s, boolean streams,
                                         long stepTimeoutMillis) {
        return backend(small, s, streams, stepTimeoutMillis, new OrchestratorMetrics(new SimpleMeterRegistry()));
    }

    private static RemoteBackend backend(List<String> small, ScheduledExecutorService s, boolean streams,
                                         long stepTimeoutMillis, OrchestratorMetrics metrics) {
        OrchestratorConfig config = new OrchestratorConfig(null, 0, null, List.of(
                new OrchestratorConfig.PoolConfig("large", "velocity-large", List.of("nowhere:1"), null, 0),
                new OrchestratorConfig.PoolConfig("small", "velocity-small", small, null, 0, NONE)),
                null, null, null, Map.of(),
                new OrchestratorConfig.Limits(4, 64, 1000, 1000, 30.0, stepTimeoutMillis, 3), 0, 0, 60_000, 0, 0, null,
                streams, null, null, OrchestratorConfig.Security.PLAINTEXT);
        return new RemoteBackend(TestCluster.FAMILY, config, a -> InProcessChannelBuilder.forName(a).build(), s,
                WorkerPool.Resolver.SYSTEM, metrics);
    }

    /** An in-process server that answers health SERVING and serves {@code inference} as given. */
    static Server rawWorker(String name, ServerServiceDefinition inference) throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus(Endpoint.HEALTH_SERVICE, HealthCheckResponse.ServingStatus.SERVING);
        return InProcessServerBuilder.forName(name).directExecutor().addService(inference)
                .addService(health.getHealthService()).build().start();
    }

    private static final int LATENT = TestCluster.FAMILY.conventions().latentElements();
    private static final int CONTEXT = TestCluster.FAMILY.manifest().text().maxTokens()
            * TestCluster.FAMILY.manifest().text().contextDim();

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 0.5f);
        return a;
    }

    @ParameterizedTest(name = "worker streams {0}")
    @ValueSource(booleans = {true, false})
    void velocity_workerCacheDisabled_contextResentEveryStepAndResultUnchanged(boolean streams) throws Exception {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        try (WorkerServer cached = worker("cached:1", 1 << 20); WorkerServer uncached = worker("uncached:1", 0);
             RemoteBackend a = backend(List.of("cached:1"), s, streams);
             RemoteBackend b = backend(List.of("uncached:1"), s, streams)) {
            Conditioning cond = Conditioning.of(ones(2 * CONTEXT), 2);
            float[] x = ones(2 * LATENT);
            float[] t = {500f, 500f};
            float[] first = a.velocity("small", x, t, cond, 2).values();
            for (int step = 0; step < 3; step++) {
                assertArrayEquals(first, a.velocity("small", x, t, cond, 2).values());
                // the uncached worker misses on every id-only request; the backend resends the context
                assertArrayEquals(first, b.velocity("small", x, t, cond, 2).values());
            }
        } finally {
            s.shutdownNow();
        }
    }

    @Test
    void velocity_firstEndpointDown_servedByTheOther() throws Exception {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        try (WorkerServer live = worker("live:1", 1 << 20);
             RemoteBackend r = backend(List.of("down:1", "live:1"), s)) {
            Conditioning cond = Conditioning.of(ones(2 * CONTEXT), 2);
            for (int i = 0; i < 4; i++) {
                assertEquals("live:1", r.velocity("small", ones(2 * LATENT), new float[] {9f, 9f}, cond, 2).worker());
            }
        } finally {
            s.shutdownNow();
        }
    }

    @Test
    void velocity_workerShutsDownBetweenSteps_streamEndsAndLaterStepsServedByTheOther() throws Exception {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        WorkerServer leaving = worker("leaving:1", 1 << 20);
        try (WorkerServer staying = worker("staying:1", 1 << 20);
             RemoteBackend r = backend(List.of("leaving:1", "staying:1"), s)) {
            Conditioning cond = Conditioning.of(ones(2 * CONTEXT), 2);
            java.util.Set<String> before = new java.util.TreeSet<>();
            for (int i = 0; i < 4; i++) {  // round-robin opens a stream to each worker
                before.add(r.velocity("small", ones(2 * LATENT), new float[] {9f, 9f}, cond, 2).worker());
            }
            assertEquals(java.util.Set.of("leaving:1", "staying:1"), before);
            leaving.close();  // drains: its stream ends; new calls to it fail and are retried
            for (int i = 0; i < 4; i++) {
                assertEquals("staying:1", r.velocity("small", ones(2 * LATENT), new float[] {9f, 9f}, cond, 2).worker());
            }
        } finally {
            leaving.close();
            s.shutdownNow();
        }
    }

    @Test
    void velocity_noWorkerReachable_unavailableNamingPoolAndEndpoints() {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        try (RemoteBackend r = backend(List.of("down-a:1", "down-b:1"), s)) {
            BackendException e = assertThrows(BackendException.class, () -> r.velocity("small", ones(LATENT),
                    new float[] {1f}, Conditioning.of(ones(CONTEXT), 1), 1));
            assertEquals(BackendException.Kind.UNAVAILABLE, e.kind());
            assertTrue(e.getMessage().contains("pool 'small'") && e.getMessage().contains("down-b:1"), e.getMessage());
            assertEquals("pool 'small' has no healthy worker among [down-a:1 (unhealthy), down-b:1 (unhealthy)]",
                    r.unservable("small"));
        } finally {
            s.shutdownNow();
        }
    }

    @Test
    @Timeout(30)
    void velocity_poolDnsNameNeverResolves_unavailableAtOnceNamingPoolAndName() {
        OrchestratorConfig config = new OrchestratorConfig(null, 0, null, List.of(
                new OrchestratorConfig.PoolConfig("large", "velocity-large", List.of("nowhere:1"), null, 0),
                new OrchestratorConfig.PoolConfig("small", "velocity-small", null, "small.missing.test:8201", 0, NONE)),
                null, null, null, Map.of(), null, 0, 0, 60_000, 0, 0, null, true, null, null, OrchestratorConfig.Security.PLAINTEXT);
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (RemoteBackend r = new RemoteBackend(TestCluster.FAMILY, config, a -> InProcessChannelBuilder.forName(a)
                .build(), s, host -> {
                    throw new java.net.UnknownHostException(host + ": Name or service not known");
                }, new OrchestratorMetrics(registry))) {
            BackendException e = assertThrows(BackendException.class, () -> r.velocity("small", ones(LATENT),
                    new float[] {1f}, Conditioning.of(ones(CONTEXT), 1), 1));
            assertEquals(BackendException.Kind.UNAVAILABLE, e.kind());
            assertTrue(e.getMessage().startsWith("pool 'small' has no worker") && e.getMessage().endsWith(
                    "its DNS name does not resolve: small.missing.test:8201: Name or service not known"), e.getMessage());
            assertEquals("pool 'small' has no workers (DNS: small.missing.test:8201: Name or service not known)",
                    r.unservable("small"));
            assertEquals(0.0, registry.get(OrchestratorMetrics.POOL_ENDPOINTS).tags("pool", "small").gauge().value());
        } finally {
            s.shutdownNow();
        }
    }

    @Test
    @Timeout(60)
    void velocity_workerAwayForSecondsThenStarts_inServiceWithinAHealthCheckNotAfterTheGrownBackoff()
            throws Exception {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        OrchestratorConfig config = new OrchestratorConfig(null, 0, null, List.of(
                new OrchestratorConfig.PoolConfig("large", "velocity-large", List.of("nowhere:1"), null, 0),
                new OrchestratorConfig.PoolConfig("small", "velocity-small", List.of("127.0.0.1:" + port), null, 0,
                        NONE)),
                null, null, null, Map.of(), null, 0, 0, 200, 0, 0, null, true, null, null, OrchestratorConfig.Security.PLAINTEXT);
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        WorkerConfig wc = new WorkerConfig("late-0", "small", "127.0.0.1", port, null, List.of("velocity-small"),
                RuntimeOptions.cpu(1), null, null, 0, 1, 0, null, null, WorkerConfig.Security.PLAINTEXT);
        try (RemoteBackend r = new RemoteBackend(TestCluster.FAMILY, config,
                OrchestratorServer.nettyChannels(64 << 20), s)) {
            Conditioning cond = Conditioning.of(ones(CONTEXT), 1);
            // 3 s with nothing listening: left alone, the channel's reconnect backoff grows to
            // 1 + 1.6 + 2.56 s (±20%), so its next attempt would come more than a second after the worker
            Thread.sleep(3000);
            try (WorkerServer late = new WorkerServer(wc, TestCluster.FAMILY,
                    io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(
                            new java.net.InetSocketAddress("127.0.0.1", port))).start()) {
                long started = System.nanoTime();
                String served = null;
                while (served == null && System.nanoTime() - started < 10_000_000_000L) {
                    try {
                        served = r.velocity("small", ones(LATENT), new float[] {1f}, cond, 1).worker();
                    } catch (BackendException e) {
                        Thread.sleep(20);
                    }
                }
                long tookMillis = (System.nanoTime() - started) / 1_000_000;
                assertEquals("late-0", served);
                // every failed health check (each 200 ms) ends the backoff, so the next one connects
                assertTrue(tookMillis < 900, "in service " + tookMillis + " ms after the worker started");
            }
        } finally {
            s.shutdownNow();
        }
    }

    @Test
    void velocity_serverClosesWithoutResponse_internalNamingTheWorker() throws Exception {
        // A raw handler: grpc-java's own stubs refuse to close a unary call OK without a message,
        // but another OIP server (or a proxy) may. It has no ModelStreamInfer either, so this also
        // checks that the backend falls back from the stream (UNIMPLEMENTED) to unary calls.
        ServerCallHandler<ModelInferRequest, ModelInferResponse> closeOk = (call, headers) -> {
            call.request(1);
            return new ServerCall.Listener<ModelInferRequest>() {
                @Override
                public void onHalfClose() {
                    call.sendHeaders(new Metadata());
                    call.close(Status.OK, new Metadata());
                }
            };
        };
        ServerServiceDefinition silent = ServerServiceDefinition.builder(GRPCInferenceServiceGrpc.SERVICE_NAME)
                .addMethod(GRPCInferenceServiceGrpc.getModelInferMethod().toBuilder()
                        .setType(MethodDescriptor.MethodType.UNKNOWN).build(), closeOk).build();
        Server server = rawWorker("silent:1", silent);
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        try (RemoteBackend r = backend(List.of("silent:1"), s)) {
            BackendException e = assertThrows(BackendException.class, () -> r.velocity("small", ones(LATENT),
                    new float[] {1f}, Conditioning.of(ones(CONTEXT), 1), 1));
            assertEquals(BackendException.Kind.INTERNAL, e.kind(), e.getMessage() + " / " + e.getCause());
            assertTrue(e.getMessage().contains("silent:1") && e.getMessage().contains("without a response"), e.getMessage());
        } finally {
            s.shutdownNow();
            server.shutdownNow();
        }
    }

    /** Takes every streamed request and answers none: only the orchestrator's deadline ends a step. */
    static Server muteWorker(String name) throws Exception {
        ServerCallHandler<ModelInferRequest, ModelStreamInferResponse> mute = (call, headers) -> {
            call.request(1);
            return new ServerCall.Listener<ModelInferRequest>() {
                @Override
                public void onMessage(ModelInferRequest message) {
                    call.request(1);
                }

                @Override
                public void onHalfClose() {  // the orchestrator closing: end the stream so it can go
                    call.close(Status.OK, new Metadata());
                }
            };
        };
        return rawWorker(name, ServerServiceDefinition.builder(GRPCInferenceServiceGrpc.SERVICE_NAME)
                .addMethod(GRPCInferenceServiceGrpc.getModelStreamInferMethod(), mute).build());
    }

    @Test
    @Timeout(30)
    void velocity_oneWorkerStalls_stepRetriedOnTheOtherAfterOneTimeoutAndCounted() throws Exception {
        Server stalled = muteWorker("stalled:1");
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (WorkerServer live = worker("alive:1", 1 << 20);
             RemoteBackend r = backend(List.of("stalled:1", "alive:1"), s, true, 300, new OrchestratorMetrics(registry))) {
            Conditioning cond = Conditioning.of(ones(2 * CONTEXT), 2);
            for (int i = 0; i < 3; i++) {  // the first goes to the stalled worker, which is then passed over
                assertEquals("alive:1", r.velocity("small", ones(2 * LATENT), new float[] {9f, 9f}, cond, 2).worker());
            }
            assertEquals(1.0, registry.get(OrchestratorMetrics.STEP_RETRIES)
                    .tags("pool", "small", "reason", "deadline_exceeded").counter().count());
            assertEquals(1.0, registry.get(OrchestratorMetrics.STEP_FAILOVERS).tags("pool", "small").counter().count());
            assertEquals(null, r.unservable("small"));  // one healthy worker left: the pool can serve
        } finally {
            s.shutdownNow();
            stalled.shutdownNow();
        }
    }

    @Test
    @Timeout(30)  // without a working deadline the step would wait forever
    void velocity_streamedRequestNeverAnswered_deadlineExceededNamingTheWorker() throws Exception {
        Server server = muteWorker("mute:1");
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        try (RemoteBackend r = backend(List.of("mute:1"), s, true, 200)) {
            long start = System.nanoTime();
            BackendException e = assertThrows(BackendException.class, () -> r.velocity("small", ones(LATENT),
                    new float[] {1f}, Conditioning.of(ones(CONTEXT), 1), 1));
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(BackendException.Kind.DEADLINE_EXCEEDED, e.kind(), e.getMessage() + " / " + e.getCause());
            assertTrue(e.getMessage().contains("mute:1"), e.getMessage());
            assertTrue(tookMillis >= 200 && tookMillis < 30_000, "failed after " + tookMillis + " ms (deadline 200 ms)");
        } finally {
            s.shutdownNow();
            server.shutdownNow();
        }
    }

    @Test
    @Timeout(60)
    void velocity_smallPoolsOnlyWorkerDown_servedByLargeSameAnswerLaterStepsSkipTheEmptyPool() throws Exception {
        WorkerConfig lc = new WorkerConfig("large-0", "large", null, 0, null, List.of("velocity-large"),
                RuntimeOptions.cpu(1), null, null, 0, 1, 0, null, null, WorkerConfig.Security.PLAINTEXT);
        OrchestratorConfig config = new OrchestratorConfig(null, 0, null, List.of(
                new OrchestratorConfig.PoolConfig("large", "velocity-large", List.of("big:1"), null, 0),
                new OrchestratorConfig.PoolConfig("small", "velocity-small", List.of("gone:1"), null, 0)),
                null, null, null, Map.of(), null, 0, 0, 60_000, 0, 0, null, true, null, null,
                OrchestratorConfig.Security.PLAINTEXT);
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // health checks once a minute after the first: the first check or the first failed try finds the pool empty
        try (WorkerServer large = new WorkerServer(lc, TestCluster.FAMILY, InProcessServerBuilder.forName("big:1")).start();
             RemoteBackend r = new RemoteBackend(TestCluster.FAMILY, config, a -> InProcessChannelBuilder.forName(a)
                     .build(), s, WorkerPool.Resolver.SYSTEM, new OrchestratorMetrics(registry))) {
            Conditioning cond = Conditioning.of(ones(2 * CONTEXT), 2);
            float[] x = ones(2 * LATENT);
            float[] t = {500f, 500f};
            Backend.Velocity direct = r.velocity("large", x, t, cond, 2);
            assertEquals(null, direct.fallbackReason());
            Backend.Velocity first = r.velocity("small", x, t, cond, 2);
            assertEquals("large", first.pool());
            // its one try failed, or the first health check (at start-up) already found the worker gone
            assertTrue(List.of(Fallbacks.UNAVAILABLE, Fallbacks.NO_HEALTHY_WORKER).contains(first.fallbackReason()),
                    first.fallbackReason());
            assertArrayEquals(direct.values(), first.values(), "the large model's answer, as if asked directly");
            for (int i = 0; i < 3; i++) {
                Backend.Velocity later = r.velocity("small", x, t, cond, 2);
                assertEquals("large", later.pool());
                assertEquals(Fallbacks.NO_HEALTHY_WORKER, later.fallbackReason());
            }
            double tries = registry.find(OrchestratorMetrics.STEP_RETRIES).tags("pool", "small").counters().stream()
                    .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
            assertTrue(tries <= 1, "later steps pay no failed try on the empty pool: " + tries);
            assertEquals(4.0, registry.find(OrchestratorMetrics.STEP_FALLBACKS).tags("pool", "small", "fallback", "large")
                    .counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum());
            assertTrue(registry.get(OrchestratorMetrics.STEP_FALLBACKS).tags("pool", "small", "fallback", "large",
                    "reason", Fallbacks.NO_HEALTHY_WORKER).counter().count() >= 3);
        } finally {
            s.shutdownNow();
        }
    }
}
