package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.ModelFamily;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A worker on a real loopback socket: message limits and graceful shutdown. */
class WorkerLoopbackTest {

    private static WorkerServer start(int maxMessageBytes) throws Exception {
        WorkerConfig c = new WorkerConfig("loop-0", "small", "127.0.0.1", 0, null,
                java.util.List.of("velocity-small"), null, null, null, maxMessageBytes, 2, 0, null, null, WorkerConfig.Security.PLAINTEXT);
        return new WorkerServer(c, ModelFamily.load(ModelFamily.defaultDirectory()),
                NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))).start();
    }

    @Test
    void modelInfer_messageOverMaxMessageBytes_resourceExhaustedNamingLimit() throws Exception {
        WorkerServer w = start(1 << 20);
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", w.port()).usePlaintext().build();
        try {
            ModelInferRequest big = ModelInferRequest.newBuilder().setModelName("velocity-small")
                    .addRawInputContents(ByteString.copyFrom(new byte[2 << 20])).build();
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () ->
                    GRPCInferenceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(big));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().contains("1048576"), e.getStatus().getDescription());
        } finally {
            ch.shutdownNow();
            w.close();
        }
    }

    @Test
    void close_runningWorker_healthNotServingThenPortClosed() throws Exception {
        WorkerServer w = start(0);
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", w.port()).usePlaintext().build();
        try {
            HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS);
            assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                    health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
            w.close();
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> HealthGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(5, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        } finally {
            ch.shutdownNow();
        }
    }
}
