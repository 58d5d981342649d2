package dev.flowblend.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.runtime.Json;
import dev.flowblend.runtime.Tensors;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The client side of deploy/image/test: a worker started from the image must report gRPC health
 * SERVING (services "" and inference.GRPCInferenceService) and answer the golden velocity-large
 * request (models/golden, written from the torch model) within 1e-4 of torch. Run from the
 * checkout's build, not from the image, so that the image is judged by code outside it:
 *   java -cp cli/target/test-classes:cli/target/classes:cli/target/lib/* dev.flowblend.cli.ImageCheck \
 *     HOST:PORT GOLDEN_DIR WAIT_SECONDS
 * Exit 0 when both hold; 1 with the reason otherwise.
 */
public final class ImageCheck {
    private static final String MODEL = "velocity-large";
    private static final double TOLERANCE = 1e-4;

    private ImageCheck() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: ImageCheck HOST:PORT GOLDEN_DIR WAIT_SECONDS");
            System.exit(2);
        }
        String target = args[0];
        JsonNode golden = Json.mapper().readTree(Files.readAllBytes(Path.of(args[1]).resolve(MODEL + ".json")));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[2]));
        ManagedChannel ch = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        try {
            for (String service : List.of("", "inference.GRPCInferenceService")) {
                ServingStatus s = awaitServing(ch, service, deadline);
                if (s != ServingStatus.SERVING) {
                    fail("health of service '" + service + "' at " + target + " is " + s + ", not SERVING");
                }
                System.out.println("image check: health '" + service + "' SERVING");
            }
            ModelInferResponse r = GRPCInferenceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .modelInfer(request(golden));
            float[] got = Tensors.floats(r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
            float[] want = floats(golden.get("outputs").get("velocity"));
            if (got.length != want.length) {
                fail("ModelInfer " + MODEL + " returned " + got.length + " values, golden has " + want.length);
            }
            double maxErr = 0;
            for (int i = 0; i < want.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(want[i] - got[i]));
            }
            if (!(maxErr < TOLERANCE)) {
                fail("ModelInfer " + MODEL + ": max |answer - golden| = " + maxErr + ", limit " + TOLERANCE);
            }
            System.out.println("image check: ModelInfer " + MODEL + " from worker '"
                    + r.getParametersMap().get("worker_id").getStringParam() + "': " + got.length
                    + " values, max |answer - golden| = " + maxErr + " (limit " + TOLERANCE + ")");
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Polls until SERVING or the deadline; a worker still loading its models answers UNAVAILABLE. */
    private static ServingStatus awaitServing(ManagedChannel ch, String service, long deadline) throws InterruptedException {
        ServingStatus last = null;
        String lastError = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                last = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
                if (last == ServingStatus.SERVING) {
                    return last;
                }
            } catch (StatusRuntimeException e) {
                lastError = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
            }
            Thread.sleep(200);
        }
        return last != null ? last : fail("no health answer for service '" + service + "' in time (" + lastError + ")");
    }

    private static ModelInferRequest request(JsonNode golden) {
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(MODEL);
        for (String in : List.of("latent", "timestep", "context")) {
            JsonNode t = golden.get("inputs").get(in);
            ModelInferRequest.InferInputTensor.Builder tensor = ModelInferRequest.InferInputTensor.newBuilder()
                    .setName(in).setDatatype("FP32");
            t.get("shape").forEach(d -> tensor.addShape(d.asLong()));
            b.addInputs(tensor).addRawInputContents(ByteString.copyFrom(Tensors.bytes(floats(t))));
        }
        return b.build();
    }

    private static float[] floats(JsonNode tensor) {
        List<Float> values = new ArrayList<>();
        tensor.get("data").forEach(v -> values.add((float) v.asDouble()));
        float[] a = new float[values.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = values.get(i);
        }
        return a;
    }

    private static <T> T fail(String message) {
        System.err.println("image check FAILED: " + message);
        System.exit(1);
        return null;
    }
}
