package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.generation.CancelRequest;
import dev.flowblend.proto.generation.GenerateEvent;
import dev.flowblend.proto.generation.GenerateRequest;
import dev.flowblend.proto.generation.Plan;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Bounded admission: beyond max_concurrent + max_queued generations, RESOURCE_EXHAUSTED; ids are unique. */
class AdmissionTest {

    @Test
    void generate_overCapacityOrDuplicateId_refusedWhileFirstRuns() throws Exception {
        OrchestratorConfig.Limits one = new OrchestratorConfig.Limits(1, 0, 1000, 5000, 30, 60_000, 3);
        try (TestCluster cluster = new TestCluster(false, 1, List.of(), one)) {
            GenerateRequest.Builder r = GenerateRequest.newBuilder().setPrompt("a red circle moving right")
                    .setPlan(Plan.newBuilder().setPreset("small-only"));
            Iterator<GenerateEvent> first = cluster.stub.withDeadlineAfter(60, TimeUnit.SECONDS)
                    .generate(r.setSteps(5000).setGenerationId("long-one").build());
            assertTrue(first.next().hasAccepted());
            StatusRuntimeException dup = assertThrows(StatusRuntimeException.class,
                    () -> cluster.generate(r.setSteps(2).setGenerationId("long-one").build()));
            assertEquals(Status.Code.ALREADY_EXISTS, dup.getStatus().getCode());
            StatusRuntimeException full = assertThrows(StatusRuntimeException.class,
                    () -> cluster.generate(r.setSteps(2).setGenerationId("second").build()));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, full.getStatus().getCode());
            assertTrue(full.getStatus().getDescription().contains("max_concurrent_generations"),
                    full.getStatus().getDescription());
            cluster.stub.cancel(CancelRequest.newBuilder().setGenerationId("long-one").build());
            StatusRuntimeException cancelled = assertThrows(StatusRuntimeException.class,
                    () -> first.forEachRemaining(e -> { }));
            assertEquals(Status.Code.CANCELLED, cancelled.getStatus().getCode());
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void generate_queuedBehindARunningOne_acceptedAtOnceWithItsQueuePosition() throws Exception {
        OrchestratorConfig.Limits oneRunning = new OrchestratorConfig.Limits(1, 4, 1000, 5000, 30, 60_000, 3);
        try (TestCluster cluster = new TestCluster(false, 1, List.of(), oneRunning)) {
            GenerateRequest.Builder r = GenerateRequest.newBuilder().setPrompt("a red circle moving right")
                    .setPlan(Plan.newBuilder().setPreset("small-only"));
            Iterator<GenerateEvent> running = cluster.stub.withDeadlineAfter(60, TimeUnit.SECONDS)
                    .generate(r.setSteps(5000).setGenerationId("running").build());
            assertEquals(0, running.next().getAccepted().getQueuePosition());
            // each answered while the first still runs: nothing of theirs has started
            Iterator<GenerateEvent> second = cluster.stub.withDeadlineAfter(60, TimeUnit.SECONDS)
                    .generate(r.setSteps(2).setGenerationId("second").build());
            assertEquals(0, second.next().getAccepted().getQueuePosition());
            Iterator<GenerateEvent> third = cluster.stub.withDeadlineAfter(60, TimeUnit.SECONDS)
                    .generate(r.setSteps(2).setGenerationId("third").build());
            assertEquals(1, third.next().getAccepted().getQueuePosition());
            cluster.stub.cancel(CancelRequest.newBuilder().setGenerationId("running").build());
            assertThrows(StatusRuntimeException.class, () -> running.forEachRemaining(e -> { }));
            GenerateEvent last = null;
            while (third.hasNext()) {
                last = third.next();
            }
            assertTrue(last != null && last.hasResult(), "the queued generation ran once a slot was free");
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void close_generationOutlastsTheDrain_endsUnavailableWithARetryHintNotAReset() throws Exception {
        // the only small worker takes steps and never answers: the generation outlasts any drain
        String mute = "inproc-drain-mute-" + System.nanoTime() + ":0";
        io.grpc.Server muteWorker = RemoteBackendTest.muteWorker(mute);
        TestCluster cluster = new TestCluster(false, 0, List.of(mute), null);  // drain_seconds 5
        try {
            Iterator<GenerateEvent> longOne = cluster.stub.withDeadlineAfter(110, TimeUnit.SECONDS)
                    .generate(GenerateRequest.newBuilder().setPrompt("a red circle moving right").setSteps(10)
                            .setPlan(Plan.newBuilder().setPreset("small-only")).setGenerationId("long").build());
            assertTrue(longOne.next().hasAccepted());
            Thread closer = new Thread(cluster.orchestrator::close, "test-close");
            closer.start();
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> longOne.forEachRemaining(ev -> { }));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
            assertTrue(e.getStatus().getDescription().contains("the orchestrator is shutting down (drain_seconds 5 "
                    + "passed); retry the request"), e.getStatus().getDescription());
            closer.join(30_000);
        } finally {
            cluster.close();
            muteWorker.shutdownNow();
        }
    }
}
