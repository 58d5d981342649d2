package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Result;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the orchestrator records and reports about itself: metrics per pool and plan, and readiness. */
class OrchestratorTelemetryTest {

    private static Result result(List<GenerateEvent> events) {
        return events.get(events.size() - 1).getResult();
    }

    @Test
    void generate_flowblending_countsTheGenerationAndEveryStepUnderItsPool() throws Exception {
        try (TestCluster c = new TestCluster(false, 1, List.of(), null)) {
            Result r = result(c.generate(GenerateRequest.newBuilder().setPrompt("a red circle moving right").setSeed(7)
                    .setSteps(10).setPlan(Plan.newBuilder().setPreset("flowblending")).build()));
            assertThrows(StatusRuntimeException.class, () -> c.generate(GenerateRequest.newBuilder()
                    .setPrompt("a red circle moving right").setSteps(100_000).build()));

            var reg = c.registry;
            // counted just after the stream completes, on the generation's thread
            await(() -> reg.find(OrchestratorMetrics.GENERATION_DURATION).tags("plan", "flowblending").timers().stream()
                    .mapToLong(io.micrometer.core.instrument.Timer::count).sum(), 1L);
            assertEquals(1.0, reg.get(OrchestratorMetrics.GENERATIONS).tags("plan", "flowblending", "outcome", "success")
                    .counter().count());
            assertEquals(1, reg.get(OrchestratorMetrics.GENERATION_DURATION).tags("plan", "flowblending").timer().count());
            assertEquals(1.0, reg.get(OrchestratorMetrics.GENERATIONS).tags("plan", OrchestratorMetrics.NO_PLAN,
                    "outcome", "INVALID_ARGUMENT").counter().count());
            Map<String, dev.flowblend.proto.generation.StepList> served = r.getMetadata().getServedMap();
            for (String pool : List.of("large", "small")) {
                assertEquals(served.get(pool).getStepsCount(),
                        reg.get(OrchestratorMetrics.STEP_DURATION).tags("pool", pool).timer().count(), pool);
                assertEquals(1.0, reg.get(OrchestratorMetrics.POOL_ENDPOINTS).tags("pool", pool).gauge().value());
                assertEquals(1.0, reg.get(OrchestratorMetrics.POOL_HEALTHY).tags("pool", pool).gauge().value());
                assertEquals(0.0, reg.get(OrchestratorMetrics.POOL_INFLIGHT).tags("pool", pool).gauge().value());
            }
            assertEquals(0.0, reg.get(OrchestratorMetrics.RUNNING).gauge().value());
            assertEquals(0.0, reg.get(OrchestratorMetrics.QUEUED).gauge().value());
            // one prompt encoded once and its negative prompt once: two misses, no hit yet
            assertEquals(2.0, reg.get(OrchestratorMetrics.PROMPT_REQUESTS).tags("result", "miss").functionCounter().count());
            assertEquals(0.0, reg.get(OrchestratorMetrics.PROMPT_HIT_RATIO).gauge().value());
        }
    }

    @Test
    @Timeout(60)
    void health_onlySmallWorkerGoesWithoutFallback_generationServiceNotServingWhileTheProcessStaysLive()
            throws Exception {
        try (TestCluster c = new TestCluster(false, new TestCluster.Layout(List.of(), 1, List.of(),
                List.of("velocity-small"), OrchestratorConfig.PoolConfig.NO_FALLBACK, null), null)) {
            await(() -> c.health(GenerationServiceGrpc.SERVICE_NAME), ServingStatus.SERVING);
            c.workers.get(1).close();  // the small pool's only worker
            await(() -> c.health(GenerationServiceGrpc.SERVICE_NAME), ServingStatus.NOT_SERVING);
            assertEquals(ServingStatus.SERVING, c.health(""));
            assertEquals(0.0, c.registry.get(OrchestratorMetrics.POOL_HEALTHY).tags("pool", "small").gauge().value());
            assertEquals(1.0, c.registry.get(OrchestratorMetrics.POOL_HEALTHY).tags("pool", "large").gauge().value());
        }
    }

    @Test
    @Timeout(60)
    void health_everyPoolServed_notServingUntilTheFirstHealthChecksThenServing() throws Exception {
        try (TestCluster c = new TestCluster(false, 1, List.of(), null)) {
            // nothing is assumed: readiness waits for the first round of health checks (up to 1 s)
            assertEquals(ServingStatus.NOT_SERVING, c.health(GenerationServiceGrpc.SERVICE_NAME));
            assertEquals(ServingStatus.SERVING, c.health(""));
            await(() -> c.health(GenerationServiceGrpc.SERVICE_NAME), ServingStatus.SERVING);
        }
    }

    @Test
    @Timeout(60)
    void generate_poolWithoutAWorkingWorkerNorFallback_unavailableNamingThePoolButNoWorkerAddress() throws Exception {
        try (TestCluster c = new TestCluster(false, new TestCluster.Layout(List.of(), 0, List.of("inproc-nobody-listens:1"),
                List.of("velocity-small"), OrchestratorConfig.PoolConfig.NO_FALLBACK, null), null)) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> c.generate(GenerateRequest
                    .newBuilder().setPrompt("a red circle moving right").setSteps(4)
                    .setPlan(Plan.newBuilder().setPreset("small-only")).build()));
            assertEquals(io.grpc.Status.Code.UNAVAILABLE, e.getStatus().getCode());
            String d = e.getStatus().getDescription();
            assertTrue(d.contains("pool 'small' has no worker that could serve the request after 1 tries"), d);
            assertTrue(!d.contains("inproc-") && !d.contains("127.0.0.1"), "topology stays inside: " + d);
        }
    }

    private static <T> void await(Supplier<T> probe, T want) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        T got = probe.get();
        while (!want.equals(got) && System.nanoTime() < deadline) {
            Thread.sleep(50);  // the health checks run every 2 s on the orchestrator's own clock
            got = probe.get();
        }
        assertEquals(want, got);
    }
}
