package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.generation.Fallback;
import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.GenerationMetadata;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.proto.generation.Plan;
import dev.flowblend.proto.generation.Progress;
import dev.flowblend.proto.generation.Result;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Pool loss: a pool that cannot serve hands its steps to its fallback (small to large by
 * default), and the Result, the Progress events, the log and the metrics say which steps ran
 * where and why; the text encoder and decoder run on the first of their pools that can.
 */
class PoolFallbackTest {
    private static final String NOBODY = "inproc-nobody-listens:1";  // an in-process name no server has
    private static final Set<String> REASONS = Set.of(Fallbacks.NO_HEALTHY_WORKER, Fallbacks.UNAVAILABLE);

    private final Logger log = Logger.getLogger("dev.flowblend.orchestrator");
    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            lines.add(r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLog() {
        log.addHandler(capture);
    }

    @AfterEach
    void releaseLog() {
        log.removeHandler(capture);
    }

    private static GenerateRequest request(String preset, int steps) {
        return GenerateRequest.newBuilder().setPrompt("a red circle moving right").setSeed(7).setSteps(steps)
                .setIncludeFrames(true).setPlan(Plan.newBuilder().setPreset(preset)).build();
    }

    private static Result result(List<GenerateEvent> events) {
        return events.get(events.size() - 1).getResult();
    }

    private static List<Progress> progress(List<GenerateEvent> events) {
        return events.stream().filter(GenerateEvent::hasProgress).map(GenerateEvent::getProgress).toList();
    }

    private List<String> lines(String event) {
        synchronized (lines) {
            return lines.stream().filter(l -> l.startsWith("event=" + event + " ")).toList();
        }
    }

    @Test
    @Timeout(120)
    void smallPoolEmpty_flowblending_completesOnLargeAndResultProgressLogAndMetricsSaySo() throws Exception {
        try (TestCluster c = new TestCluster(false, new TestCluster.Layout(List.of(), 0, List.of(NOBODY),
                List.of("velocity-small"), null, null), null)) {
            // the small pool has no worker, but its steps have somewhere to go: ready
            await(() -> c.health(GenerationServiceGrpc.SERVICE_NAME), ServingStatus.SERVING);
            List<GenerateEvent> events = c.generate(request("flowblending", 10));
            List<String> plan = events.get(0).getAccepted().getStepPoolsList();
            List<Integer> smallSteps = IntStream.range(0, 10).filter(k -> plan.get(k).equals("small")).boxed().toList();
            assertEquals(List.of(4, 5, 6, 7), smallSteps, "Accepted.step_pools stays the plan");

            GenerationMetadata m = result(events).getMetadata();
            assertEquals(plan, m.getStepPoolsList());
            assertEquals(Set.of("large"), m.getServedMap().keySet(), "served says where the steps ran");
            assertEquals(IntStream.range(0, 10).boxed().toList(), m.getServedMap().get("large").getStepsList());
            List<Integer> fellBack = new ArrayList<>();
            for (Fallback f : m.getFallbacksList()) {
                assertEquals("small", f.getPlannedPool());
                assertEquals("large", f.getServedPool());
                assertTrue(REASONS.contains(f.getReason()), f.getReason());
                fellBack.addAll(f.getStepsList());
            }
            assertEquals(smallSteps, fellBack);
            assertEquals("large", m.getTextEncoderPool());
            assertEquals("large", m.getDecoderPool());
            assertEquals(m.getLargeOnlyFlops(), m.getFlops(), "every step ran the large model");

            for (Progress p : progress(events)) {
                assertEquals(plan.get(p.getStep()), p.getPlannedPool(), "step " + p.getStep());
                assertEquals("large", p.getPool(), "step " + p.getStep());
                assertEquals(plan.get(p.getStep()).equals("small"), REASONS.contains(p.getFallbackReason()),
                        "step " + p.getStep() + " reason '" + p.getFallbackReason() + "'");
            }

            double counted = c.registry.find(OrchestratorMetrics.STEP_FALLBACKS).tags("pool", "small", "fallback", "large")
                    .counters().stream().mapToDouble(Counter::count).sum();
            assertEquals(4.0, counted);
            // while the pool stays empty its steps go straight to the fallback: at most the first pays a try
            double smallTries = c.registry.find(OrchestratorMetrics.STEP_RETRIES).tags("pool", "small").counters()
                    .stream().mapToDouble(Counter::count).sum();
            assertTrue(smallTries <= 1, smallTries + " failed tries on the empty pool");

            String id = result(events).getGenerationId();
            List<String> fallbackLines = lines("generation_fallback");
            assertEquals(1, fallbackLines.size(), "logged once per generation and pool: " + fallbackLines);
            assertTrue(fallbackLines.get(0).startsWith("event=generation_fallback id=" + id + " pool=small fallback=large"
                    + " reason="), fallbackLines.get(0));
            assertTrue(fallbackLines.get(0).endsWith(" step=4"), fallbackLines.get(0));
            // logged just after the stream completes
            await(() -> lines("generation_finished").stream().anyMatch(l -> l.contains("id=" + id + " ")
                    && l.contains(" fallback_steps=4 ")), true);

            // the same steps, all on the large model, in the same order: large-only's video exactly
            Result largeOnly = result(c.generate(request("large-only", 10)));
            assertArrayEquals(largeOnly.getFrames().toByteArray(), result(events).getFrames().toByteArray());
            assertEquals(0, largeOnly.getMetadata().getFallbacksCount());
        }
    }

    @Test
    @Timeout(120)
    void smallWorkerStops_laterGenerationsServedByLargeReadinessStaysServing() throws Exception {
        try (TestCluster c = new TestCluster(false, 1, List.of(), null)) {
            await(() -> c.health(GenerationServiceGrpc.SERVICE_NAME), ServingStatus.SERVING);
            GenerationMetadata before = result(c.generate(request("flowblending", 10))).getMetadata();
            assertEquals(0, before.getFallbacksCount());
            assertEquals(List.of(4, 5, 6, 7), before.getServedMap().get("small").getStepsList());

            c.workers.get(1).close();  // the small pool's only worker
            GenerationMetadata after = result(c.generate(request("flowblending", 10))).getMetadata();
            assertEquals(Set.of("large"), after.getServedMap().keySet());
            assertEquals(List.of(4, 5, 6, 7), after.getFallbacksList().stream().flatMap(f -> f.getStepsList().stream())
                    .toList());
            await(() -> lines("readiness_serving").stream().anyMatch(l -> l.contains("via_fallback=[small->large]")),
                    true);
            assertEquals(ServingStatus.SERVING, c.health(GenerationServiceGrpc.SERVICE_NAME));
        }
    }

    @Test
    @Timeout(120)
    void largeWorkerDown_smallOnlyWithEncoderAndDecoderAlsoOnSmall_completesOnSmall() throws Exception {
        try (TestCluster c = new TestCluster(false, new TestCluster.Layout(List.of(NOBODY), 1, List.of(),
                List.of("velocity-small", "text-encoder", "decoder"), null, List.of("large", "small")), null)) {
            Result r = result(c.generate(request("small-only", 6)));
            GenerationMetadata m = r.getMetadata();
            assertEquals(IntStream.range(0, 6).boxed().toList(), m.getServedMap().get("small").getStepsList());
            assertEquals(0, m.getFallbacksCount());
            assertEquals("small", m.getTextEncoderPool());
            assertEquals("small", m.getDecoderPool());
            assertTrue(r.getVideo().size() > 0);

            // the large pool has no fallback: its steps fail, naming it, and the default plan is not served
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> c.generate(request("flowblending", 6)));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().contains("pool 'large'"), e.getStatus().getDescription());
            await(() -> lines("readiness_not_serving").stream().anyMatch(l -> l.contains("pool 'large'")), true);
            assertEquals(ServingStatus.NOT_SERVING, c.health(GenerationServiceGrpc.SERVICE_NAME));
        }
    }

    @Test
    @Timeout(120)
    void fallbackNone_smallPoolEmpty_unavailableNamingThePoolAndNotServing() throws Exception {
        try (TestCluster c = new TestCluster(false, new TestCluster.Layout(List.of(), 0, List.of(NOBODY),
                List.of("velocity-small"), OrchestratorConfig.PoolConfig.NO_FALLBACK, null), null)) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> c.generate(request("flowblending", 10)));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            String d = e.getStatus().getDescription();
            assertTrue(d.contains("pool 'small' has no worker that could serve the request"), d);
            assertTrue(!d.contains("inproc-"), "topology stays inside: " + d);
            assertEquals(List.of(), lines("generation_fallback"));
            await(() -> c.health(GenerationServiceGrpc.SERVICE_NAME), ServingStatus.NOT_SERVING);
            await(() -> lines("readiness_not_serving").stream().anyMatch(l -> l.contains("pool 'small'")), true);
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
