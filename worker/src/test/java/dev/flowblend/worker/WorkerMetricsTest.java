package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.ModelFamily;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** What a worker records per request, read back from the registry it was given. */
class WorkerMetricsTest {

    @Test
    void modelInfer_threeAnsweredOneRefusedOneNotHosted_countsEachOutcomeAndEndsWithNothingPending() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        String name = InProcessServerBuilder.generateName();
        WorkerConfig config = WorkerRoles.load("test").withBatching(new WorkerConfig.Batching(4, 0, 16));
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        try (WorkerServer server = new WorkerServer(config, ModelFamily.load(ModelFamily.defaultDirectory()),
                InProcessServerBuilder.forName(name), registry).start()) {
            var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
            ModelInferRequest good = InferenceServiceTest.velocityRequestFrom(Golden.load("velocity-small")).build();  // 2 samples
            for (int i = 0; i < 3; i++) {
                stub.modelInfer(good);
            }
            assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(good.toBuilder()
                    .clearRawInputContents().build()));
            assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(good.toBuilder()
                    .setModelName("velocity-huge").build()));

            String model = "velocity-small";
            assertEquals(3.0, registry.get(WorkerMetrics.REQUESTS).tags("model", model, "outcome", "success",
                    "worker", "test-0", "role", "test").counter().count());
            assertEquals(1.0, registry.get(WorkerMetrics.REQUESTS).tags("model", model, "outcome", "INVALID_ARGUMENT")
                    .counter().count());
            assertEquals(1.0, registry.get(WorkerMetrics.REQUESTS).tags("model", WorkerMetrics.UNKNOWN_MODEL,
                    "outcome", "NOT_FOUND").counter().count());
            assertEquals(6.0, registry.get(WorkerMetrics.INFERENCES).tags("model", model).counter().count());
            assertEquals(3.0, registry.get(WorkerMetrics.EXECUTIONS).tags("model", model).counter().count());
            assertEquals(3, registry.get(WorkerMetrics.BATCH_SIZE).tags("model", model).summary().count());
            assertEquals(6.0, registry.get(WorkerMetrics.BATCH_SIZE).tags("model", model).summary().totalAmount());
            assertEquals(3, registry.get(WorkerMetrics.QUEUE).tags("model", model).timer().count());
            assertEquals(3, registry.get(WorkerMetrics.COMPUTE).tags("model", model).timer().count());
            assertEquals(0.0, registry.get(WorkerMetrics.PENDING).tags("model", model).gauge().value());
            // the requests carry their context and no context_id: nothing cached, nothing looked up
            assertEquals(0.0, registry.get(WorkerMetrics.CACHE_REQUESTS).tags("result", "hit").functionCounter().count());
            assertEquals(0.0, registry.get(WorkerMetrics.CACHE_ENTRIES).gauge().value());
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void pending_requestsQueuedBehindABusyModel_countedUntilAnswered() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        WorkerMetrics metrics = new WorkerMetrics(registry, "w", "small");
        WorkerMetrics.Model m = metrics.model("velocity-small");
        m.pending.incrementAndGet();
        m.pending.incrementAndGet();
        assertEquals(2.0, registry.get(WorkerMetrics.PENDING).tags("model", "velocity-small", "worker", "w",
                "role", "small").gauge().value());
        m.pending.decrementAndGet();
        assertEquals(1.0, registry.get(WorkerMetrics.PENDING).gauge().value());
    }
}
