package dev.flowblend.worker;

import dev.flowblend.runtime.Wire;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.Tensors;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Concurrent requests of different "generations" and timesteps merge into one batch and split back. */
class BatchingTest {

    @Test
    void modelInfer_fourConcurrentRequestsWithinQueueDelay_oneBatchOfEightSameValuesAsAlone() throws Exception {
        Golden g = Golden.load("velocity-small");
        ModelFamily family = ModelFamily.load(ModelFamily.defaultDirectory());
        WorkerConfig c = WorkerRoles.load("test").withBatching(new WorkerConfig.Batching(8, 1_000_000, 16));
        String name = InProcessServerBuilder.generateName();
        try (WorkerServer w = new WorkerServer(c, family, InProcessServerBuilder.forName(name)).start()) {
            ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
            var stub = GRPCInferenceServiceGrpc.newFutureStub(ch);
            List<ModelInferRequest> requests = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ModelInferRequest.Builder b = InferenceServiceTest.velocityRequestFrom(g);
                b.setRawInputContents(1, ByteString.copyFrom(Tensors.bytes(new float[] {100f * i + 1, 999f - i})));
                requests.add(b.build());
            }
            var futures = requests.stream().map(stub::modelInfer).toList();
            List<ModelInferResponse> merged = new ArrayList<>();
            for (var f : futures) {
                merged.add(f.get(30, TimeUnit.SECONDS));
            }
            for (int i = 0; i < 4; i++) {
                assertEquals(8, merged.get(i).getParametersMap().get(Wire.BATCH_SIZE).getInt64Param());
            }
            // each request alone (a batch of its own 2 samples) gives the same values to rounding
            WorkerConfig solo = c.withBatching(new WorkerConfig.Batching(2, 0, 16));
            String soloName = InProcessServerBuilder.generateName();
            try (WorkerServer w2 = new WorkerServer(solo, family, InProcessServerBuilder.forName(soloName)).start()) {
                ManagedChannel ch2 = InProcessChannelBuilder.forName(soloName).build();
                var blocking = GRPCInferenceServiceGrpc.newBlockingStub(ch2);
                for (int i = 0; i < 4; i++) {
                    float[] alone = floats(blocking.modelInfer(requests.get(i)));
                    float[] inBatch = floats(merged.get(i));
                    double maxRel = 0;
                    for (int k = 0; k < alone.length; k++) {
                        maxRel = Math.max(maxRel, Math.abs(alone[k] - inBatch[k]) / (1e-3 + Math.abs(alone[k])));
                    }
                    assertTrue(maxRel < 1e-4, "request " + i + " differs by " + maxRel);
                }
                ch2.shutdownNow();
            }
            ch.shutdownNow();
        }
    }

    private static float[] floats(ModelInferResponse r) {
        return Tensors.floats(r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }
}
